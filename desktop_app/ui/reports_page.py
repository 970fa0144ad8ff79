"""统计通报 (issue 17): a period's figures beside the previous period's, and the numbered
分析通报 previewed, printed or saved; the department scorecards in a second tab.

The figures come from services/statistics.py on the worker (a year at 100,000 cases is a few
hundred milliseconds); the preview takes no number, printing or saving issues the bulletin
(〔年〕第N期) in the transaction that records it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.services.statistics import Period, PeriodStatistics, format_change
from desktop_app.ui.common import FieldError, UiContext
from desktop_app.ui.list_table import page_hint, title_row
from desktop_app.ui.operations import Query
from desktop_app.ui.scorecard_view import ScorecardView
from desktop_app.ui.slip_preview import Deliver, SlipPreviewDialog


def last_month(today: date) -> Period:
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())


class BulletinTab(QWidget):
    """Choose a period (and a county at a city), see its figures, preview the bulletin."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.stats: PeriodStatistics | None = None
        self.preview: SlipPreviewDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        period = last_month(context.services.clock.now().date())
        bar = QHBoxLayout()
        bar.addWidget(QLabel("统计期（受理日期）"))
        self.start = QDateEdit(_qdate(period.start))
        self.end = QDateEdit(_qdate(period.end))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(self.start)
        bar.addWidget(QLabel("至"))
        bar.addWidget(self.end)
        self.site = QComboBox()
        self.site.addItem("全部", None)
        self.site.setVisible(False)  # only a city has counties to choose from
        bar.addWidget(self.site)
        self.count_button = QPushButton("统计")
        self.count_button.setObjectName("primary")
        self.count_button.clicked.connect(self.reload)
        bar.addWidget(self.count_button)
        self.typical = QLineEdit()
        self.typical.setPlaceholderText("典型案例：事项编号，用逗号或空格分隔（可不填）")
        self.typical.setToolTip("列入通报“典型案例”的事项；个人姓名只留姓，不印证件号和电话")
        bar.addWidget(self.typical, 1)
        self.preview_button = QPushButton("预览通报…")
        self.preview_button.clicked.connect(self.show_preview)
        bar.addWidget(self.preview_button)
        layout.addLayout(bar)
        self.error = FieldError()
        layout.addWidget(self.error)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["指标", "本期", "上期", "变化"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        ledger = context.services.ledger
        Query(context.runner, self, ledger.case_sites, self._got_sites).run()

    def _got_sites(self, sites: list[tuple[str, str]]) -> None:
        if len(sites) > 1:
            for code, name in sites:
                self.site.addItem(name, code)
            self.site.setVisible(True)

    def period(self) -> Period | None:
        try:
            return Period(_day(self.start), _day(self.end))
        except ValueError as exc:
            self.error.set_message(str(exc))
            return None

    def site_code(self) -> str | None:
        code = self.site.currentData()
        return str(code) if code else None

    def reload(self) -> None:
        period = self.period()
        if period is None:
            return
        self.error.set_message(None)
        self.count_button.setEnabled(False)
        services, actor, site = self.context.services, self.context.actor, self.site_code()
        Query(
            self.context.runner,
            self,
            lambda: services.statistics.period_statistics(actor, period, site_code=site),
            self._show,
        ).failure(self._failed).finished(lambda: self.count_button.setEnabled(True)).run()

    def _failed(self, exc: Exception) -> None:
        self.error.set_message(str(exc))

    def _show(self, stats: PeriodStatistics) -> None:
        self.stats = stats
        totals, previous = stats.totals, stats.previous
        self.summary.setText(
            f"{stats.period.text()}：按期办结率 {stats.on_time.text()}（按原定期限 "
            f"{stats.on_time_original.text()}），回访率 {stats.visit_rate.text()}，"
            f"满意率 {stats.satisfied_rate.text()}。"
        )
        before = previous.totals if previous is not None else None
        rows: list[tuple[str, str, str, str]] = []
        for label, key in (
            ("受理反映事项", "received"),
            ("甄别不予受理/转办", "screened_out"),
            ("已办结", "concluded"),
            ("其中：办成", "resolved"),
            ("其中：不能办（已解释）", "explained"),
            ("撤回", "withdrawn"),
            ("在办", "open"),
            ("其中：超期", "overdue"),
        ):
            now = int(getattr(totals, key))
            prior = int(getattr(before, key)) if before is not None else None
            rows.append(
                (
                    label,
                    str(now),
                    "—" if prior is None else str(prior),
                    "—" if prior is None else format_change(now, prior),
                )
            )
        for label, rate, prior_rate in (
            ("按期办结率（现行期限）", stats.on_time, previous.on_time if previous else None),
            (
                "按期办结率（原定期限）",
                stats.on_time_original,
                previous.on_time_original if previous else None,
            ),
            ("回访率", stats.visit_rate, previous.visit_rate if previous else None),
            ("满意率", stats.satisfied_rate, previous.satisfied_rate if previous else None),
        ):
            rows.append((label, rate.text(), prior_rate.text() if prior_rate else "—", ""))
        median = stats.working_days_median
        rows.append(("办结用时中位数（工作日）", "—" if median is None else f"{median:g}", "", ""))
        self.table.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def show_preview(self) -> SlipPreviewDialog | None:
        period = self.period()
        if period is None:
            return None
        services, actor, site = self.context.services, self.context.actor, self.site_code()
        typical = [n for n in self.typical.text().replace("，", ",").replace(",", " ").split() if n]

        def issue(target: Path | None, deliver: Deliver | None) -> bytes:
            bulletins = services.bulletins
            return bulletins.issue(
                actor, period, target, site_code=site, deliver=deliver, typical=typical
            ).data

        shown = services.bulletins.as_of_today(period)
        title = f"分析通报 {shown.text()}"
        dialog = SlipPreviewDialog(
            self.context,
            lambda: services.bulletins.preview_pdf(actor, period, site_code=site, typical=typical),
            title,
            self,
            record=issue,
        )

        def say_earlier(numbers: list[str]) -> None:
            # Said before a second issue takes the next number (it did so without a word).
            if numbers:
                note = f"本统计期已印发：{'、'.join(numbers)}；打印或另存为将编为新的一期"
                dialog.setWindowTitle(f"预览 — {title}（{note}）")

        Query(
            self.context.runner,
            dialog,
            lambda: services.bulletins.issued_for(period, site),
            say_earlier,
        ).run()
        self.preview = dialog
        dialog.open()
        return dialog


class ReportsPage(QWidget):
    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title_row(layout, "统计通报")
        layout.addWidget(
            page_hint(
                "统计期内受理事项的办理情况，与上一期对比；每个比率后括号内是分子/分母。"
                "预览通报不占期号，打印或另存为时编为下一期（〔年〕第N期）。"
            )
        )
        self.tabs = QTabWidget()
        self.bulletin = BulletinTab(context)
        self.tabs.addTab(self.bulletin, "分析通报")
        self.tabs.addTab(ScorecardView(context), "部门评分")
        layout.addWidget(self.tabs, 1)
