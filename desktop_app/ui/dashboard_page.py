"""工作台: today's figures and the cases waiting for the clerk, one click from the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.services.context import Changes
from desktop_app.services.ledger import CaseFilter, CaseRow
from desktop_app.services.supervision import (
    Figure,
    MonthFigures,
    PeriodFigures,
    SupervisionCounts,
)
from desktop_app.ui.charts import ORANGE, BarChart, TrendChart
from desktop_app.ui.common import Card, TaskRunner, UiContext, heading
from desktop_app.ui.operations import Query

log = logging.getLogger(__name__)

WEEKDAYS = "一二三四五六日"
# Tiles reflow: as many columns of about this width as fit, between these bounds.
TILE_WIDTH = 210
MIN_TILE_COLUMNS = 2
MAX_TILE_COLUMNS = 5
# Narrower than this (the page's usable width), the trend chart goes above the two period cards.
CHARTS_IN_A_ROW = 900


@dataclass(frozen=True)
class DashboardData:
    counts: SupervisionCounts
    awaiting_triage: list[CaseRow]
    awaiting_visit: list[CaseRow]


@dataclass(frozen=True)
class ChartData:
    """The charts' numbers: the month trend and this month's bulletin figures (fast), then
    this year's (a second read: ~0.3 s of CPU at 100,000 cases, so it never holds the rest)."""

    trend: tuple[MonthFigures, ...]
    month: PeriodFigures


# Each tile: its figure, caption and colour. The case figures open the ledger on the figure's
# own filter (SupervisionQueries.case_filters); the others open their page.
TILES: list[tuple[Figure, str, str]] = [
    (Figure.DUE_TODAY, "今日到期（办理、依据、回访）", "#b9770e"),
    (Figure.OVERDUE, "已超期（请催办、督办）", "#c0392b"),
    (Figure.AWAITING_TRIAGE, "待甄别分类", "#b22222"),
    (Figure.AWAITING_SIGNATURE, "待签发（待带班领导签发）", "#7d3c98"),
    (Figure.MINE, "我登记的未办结", "#1f618d"),
    (Figure.BASIS_MISSING, "书面依据未到（办不了）", "#c0392b"),
    (Figure.AWAITING_REPLY, "待答复反映人", "#b9770e"),
    (Figure.AWAITING_VISIT, "已办结待回访", "#1e8449"),
    (Figure.VISIT_RETRY, "回访待重拨", "#1e8449"),
    (Figure.REFERRALS_PENDING, "问责线索待处理", "#7b241c"),
    (Figure.WARNINGS_OPEN, "预警待研判（苗头性问题）", "#7b241c"),
    (Figure.REGISTERED_TODAY, "今日受理", "#1f618d"),
    (Figure.OPEN_CASES, "未办结（已登记+办理中）", "#566573"),
    (Figure.THIS_MONTH, "本月受理", "#566573"),
    (Figure.TOTAL, "累计受理", "#566573"),
]
# What a figure counts, where the caption cannot say it all (the rules: services/ledger.py
# worklist_condition).
TIPS: dict[Figure, str] = {
    Figure.DUE_TODAY: "今天到期的办理时限、书面依据期限或回访期限（按事项计）",
    Figure.OVERDUE: "办理时限、书面依据期限或回访期限已过而未完成的事项",
    Figure.MINE: "本人登记、尚未办结（已登记或办理中）的事项",
    Figure.BASIS_MISSING: "办不了的事项，部门签字的书面依据尚未收到、也未经领导免除（含已办结的）",
    Figure.AWAITING_REPLY: "办理中、尚未答复反映人：办不了的事项（当日答复），或部门均已反馈的事项",
    Figure.AWAITING_VISIT: "已办结、尚未回访的事项",
    Figure.VISIT_RETRY: "回访未联系上、今天或之前应再次回访的事项",
    Figure.REFERRALS_PENDING: "拟移交或已移交、尚未登记处理结果的问责线索",
    Figure.WARNINGS_OPEN: "尚未研判（未归入一类事、未排除）的预警",
    Figure.AWAITING_TRIAGE: "已登记、尚未保存甄别分类（问题性质、处置方式）的事项",
    Figure.AWAITING_SIGNATURE: (
        "有本站起草、待带班领导签发的交办或督办（协办随承办签发）的未办结事项"
    ),
    Figure.REGISTERED_TODAY: "反映时间在今天的事项",
    Figure.OPEN_CASES: "状态为已登记或办理中的事项",
    Figure.THIS_MONTH: "反映时间在本月的事项",
    Figure.TOTAL: "全部事项，含不予受理、已撤回和历史导入的",
}
# Not cases: the page that lists them, and who may see that page.
PAGES: dict[Figure, tuple[str, Permission]] = {
    Figure.REFERRALS_PENDING: ("问责线索", Permission.VIEW_REFERRALS),
    Figure.WARNINGS_OPEN: ("一类事与预警", Permission.MANAGE_CLASSES),
}


class FigureButton(QPushButton):
    """A big number with a caption; clicking shows those cases in the ledger."""

    def __init__(self, caption: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumHeight(66)
        self.setStyleSheet(
            "QPushButton { background: white; border: 1px solid #d5d8dc; border-radius: 6px;"
            " text-align: left; padding: 4px 12px; }"
            "QPushButton:hover { border-color: #b22222; }"
        )
        box = QVBoxLayout(self)
        box.setSpacing(0)
        box.setContentsMargins(12, 4, 12, 6)
        self.number = QLabel("—")
        self.number.setStyleSheet(f"font-size: 20pt; font-weight: bold; color: {colour};")
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: #566573;")
        box.addWidget(self.number)
        box.addWidget(self.caption)

    def set_value(self, value: int) -> None:
        self.number.setText(f"{value:,}")


class DashboardPage(QWidget):
    show_ledger = Signal(object)  # CaseFilter
    show_page = Signal(str)  # a page's title (问责线索, 一类事与预警)
    open_case = Signal(int)
    new_intake = Signal()
    show_exchange = Signal()

    def __init__(
        self,
        context: UiContext,
        parent: QWidget | None = None,
        *,
        figures_runner: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self.data: DashboardData | None = None
        self.exchange_reminder = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        top = QHBoxLayout()
        self.greeting = heading("")
        top.addWidget(self.greeting)
        top.addStretch(1)
        self.new_button = QPushButton("新登记（Ctrl+N）")
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_intake.emit)
        # Only for those who register (the auditor and 纪检监察 have no 受理登记 page).
        self.new_button.setVisible(context.actor.can(Permission.REGISTER_CASE))
        top.addWidget(self.new_button)
        layout.addLayout(top)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("hint")
        layout.addWidget(self.subtitle)
        self.exchange_banner = QPushButton("")
        self.exchange_banner.setObjectName("exchangeBanner")
        self.exchange_banner.setCursor(Qt.CursorShape.PointingHandCursor)
        self.exchange_banner.setToolTip("打开“数据交换”")
        self.exchange_banner.setStyleSheet(
            "QPushButton { background: #fef5e7; color: #9a4f00; border: 1px solid #f0b27a;"
            " border-radius: 4px; padding: 8px 14px; text-align: left; font-weight: bold; }"
            "QPushButton:hover { border-color: #b22222; }"
        )
        self.exchange_banner.clicked.connect(self.show_exchange.emit)
        self.exchange_banner.setVisible(False)

        # Everything under the greeting scrolls, so the page fits a short screen; the tiles
        # reflow to fewer columns when the window is narrow (issue 12 item 3).
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body_host = QWidget()
        body_host.setObjectName("dashboardBody")
        scroll.setWidget(body_host)
        body = QVBoxLayout(body_host)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(12)
        layout.addWidget(scroll, 1)
        body.addWidget(self.exchange_banner)

        self.tile_grid = QGridLayout()
        self.tile_grid.setSpacing(12)
        self.tiles: list[FigureButton] = []
        # Figure → its tile and the ledger filter a click opens (None: the figure's page). The
        # filters come again with each count, so a click lists the day that was counted.
        today = context.services.clock.now().date()
        filters = context.services.supervision.case_filters(today, context.actor.user_id)
        self.figures: dict[str, tuple[FigureButton, CaseFilter | None]] = {}
        for figure, caption, colour in TILES:
            if figure in PAGES and not context.actor.can(PAGES[figure][1]):
                continue
            button = FigureButton(caption, colour)
            button.setToolTip(TIPS.get(figure, caption))
            button.clicked.connect(lambda _checked=False, f=figure: self._open(f))
            self.tiles.append(button)
            self.figures[figure.value] = (button, filters.get(figure))
        self.tile_columns = 0
        self._place_tiles(MAX_TILE_COLUMNS)
        body.addLayout(self.tile_grid)

        # Charts (issue 17): the bulletin's numbers for the last 12 months, this month and this
        # year. Read only while the page is shown: the year's figures are not free.
        self.charts_allowed = context.actor.can(Permission.VIEW_CASES)
        self.charts_stale = True
        # The charts are read on the main window's worker for figures nothing waits on
        # (MainWindow.figures_runner): at a city of 1.5 million this year's figures take 2.2 s,
        # and on the screens' worker they held up whatever was asked after them (the ledger's
        # first page, at start, by as long). On its own, the page uses the screens' worker.
        self.figures_runner = figures_runner if figures_runner is not None else context.runner
        self.trend_data: tuple[MonthFigures, ...] = ()
        self.period_data: dict[str, PeriodFigures] = {}
        self.charts = QGridLayout()
        self.charts.setSpacing(12)
        self.charts_wide: bool | None = None
        self.trend_card = Card("近12个月受理与办结（按受理月份）")
        self.trend_chart = TrendChart()
        self.trend_chart.setToolTip("")
        self.trend_chart.clicked.connect(self._open_month)
        self.trend_card.body.addWidget(self.trend_chart, 1)
        self.period_cards: dict[str, tuple[Card, BarChart, BarChart, QLabel]] = {}
        for key, title in (("month", "本月"), ("year", "本年")):
            card = Card(title)
            natures, approaches = BarChart(), BarChart(ORANGE)
            on_time = QLabel("按期办结率 —")
            on_time.setWordWrap(True)  # 5-digit denominators in a narrow card
            on_time.setToolTip(
                "按期办结率 =（按期限办结的交办轮次）÷（已办结轮次 + 尚未办结且已超过期限的"
                "轮次），按现行期限；与统计通报相同"
            )
            for caption, chart in (("按问题性质", natures), ("按处置方式", approaches)):
                label = QLabel(caption)
                label.setObjectName("hint")
                card.body.addWidget(label)
                card.body.addWidget(chart)
            card.body.addWidget(on_time)
            card.body.addStretch(1)
            self.period_cards[key] = (card, natures, approaches, on_time)
        self.charts_host = QWidget()
        self.charts_host.setLayout(self.charts)
        self.charts.setContentsMargins(0, 0, 0, 0)
        self._place_charts(wide=True)
        self.charts_host.setVisible(self.charts_allowed)
        body.addWidget(self.charts_host)

        lists = QHBoxLayout()
        lists.setSpacing(12)
        self.triage_card = Card("待甄别分类的事项")
        self.triage_list = QListWidget()
        self.triage_card.body.addWidget(self.triage_list)
        self.visit_card = Card("已办结、等待回访的事项")
        self.visit_list = QListWidget()
        self.visit_card.body.addWidget(self.visit_list)
        for widget in (self.triage_list, self.visit_list):
            widget.setFrameShape(QFrame.Shape.NoFrame)
            widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            widget.setTextElideMode(Qt.TextElideMode.ElideRight)
            widget.itemDoubleClicked.connect(
                lambda item: self.open_case.emit(item.data(Qt.ItemDataRole.UserRole))
            )
        for card, widget in (
            (self.triage_card, self.triage_list),
            (self.visit_card, self.visit_list),
        ):
            card.setMinimumHeight(150)
            widget.setMinimumHeight(80)
        lists.addWidget(self.triage_card, 1)
        lists.addWidget(self.visit_card, 1)
        body.addLayout(lists, 1)
        note = QLabel(
            "提示：双击事项打开详情；点击数字查看对应事项。期限按工作日计算，已计入节假日和调休。"
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        body.addWidget(note)
        context.hub.changed.connect(self._on_changed)
        self._render_greeting()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        layout = self.layout()
        assert layout is not None
        margins = layout.contentsMargins()
        usable = event.size().width() - margins.left() - margins.right()
        spacing = self.tile_grid.spacing()
        columns = (usable + spacing) // (TILE_WIDTH + spacing)
        self._place_tiles(max(MIN_TILE_COLUMNS, min(MAX_TILE_COLUMNS, columns)))
        self._place_charts(wide=usable >= CHARTS_IN_A_ROW)

    def _place_charts(self, *, wide: bool) -> None:
        """The trend beside this month and this year; on a narrow window, above them."""
        if wide == self.charts_wide:
            return
        self.charts_wide = wide
        month, year = (self.period_cards[key][0] for key in ("month", "year"))
        for widget in (self.trend_card, month, year):
            self.charts.removeWidget(widget)
        if wide:
            self.charts.addWidget(self.trend_card, 0, 0)
            self.charts.addWidget(month, 0, 1)
            self.charts.addWidget(year, 0, 2)
            for column, stretch in enumerate((5, 3, 3)):
                self.charts.setColumnStretch(column, stretch)
        else:
            self.charts.addWidget(self.trend_card, 0, 0, 1, 2)
            self.charts.addWidget(month, 1, 0)
            self.charts.addWidget(year, 1, 1)
            for column, stretch in enumerate((1, 1, 0)):
                self.charts.setColumnStretch(column, stretch)

    def _place_tiles(self, columns: int) -> None:
        """Lay the tiles out ``columns`` to a row, in their order (deadlines first)."""
        if columns == self.tile_columns:
            return
        self.tile_columns = columns
        for tile in self.tiles:
            self.tile_grid.removeWidget(tile)
        for column in range(MAX_TILE_COLUMNS):
            self.tile_grid.setColumnStretch(column, 1 if column < columns else 0)
        for index, tile in enumerate(self.tiles):
            self.tile_grid.addWidget(tile, index // columns, index % columns)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.charts_stale:
            self._refresh_charts()

    def refresh(self) -> None:
        services = self._context.services
        actor = self._context.actor

        def load() -> DashboardData:
            # One statement for every figure, then the first rows of the two short lists.
            counts = services.supervision.counts(actor)
            ledger = services.ledger
            triage_ids = ledger.ids(counts.filters[Figure.AWAITING_TRIAGE], limit=8)
            visit_ids = ledger.ids(counts.filters[Figure.AWAITING_VISIT], limit=8)
            return DashboardData(counts, ledger.rows(triage_ids), ledger.rows(visit_ids))

        Query(self._context.runner, self, load, self._show).run()
        # Queued after the figures, which should not wait for it (a county that has never
        # uploaded counts every record as pending: ~0.4 s at 100,000 cases). Only for those
        # who exchange: 纪检监察 has no 数据交换 page to go to.
        if self._context.actor.can(Permission.EXCHANGE_DATA):
            Query(
                self._context.runner,
                self,
                lambda: services.sync.status(count_pending=False).reminder(),
                self._show_reminder,
            ).failure(lambda exc: log.warning("exchange reminder not shown: %s", exc)).run()
        # The charts after the figures; while the page is hidden, when it is next shown.
        self.charts_stale = True
        if self.isVisible():
            self._refresh_charts()

    def _refresh_charts(self) -> None:
        """The trend and this month, then this year in a read of its own, queued after."""
        if not self.charts_allowed:
            return
        self.charts_stale = False
        supervision = self._context.services.supervision
        actor = self._context.actor

        def load() -> ChartData:
            trend = supervision.trend(actor)
            return ChartData(trend, supervision.period_figures(actor, supervision.this_month()))

        Query(self.figures_runner, self, load, self._show_charts).run()
        Query(
            self.figures_runner,
            self,
            lambda: supervision.period_figures(actor, supervision.this_year()),
            lambda figures: self._show_period("year", figures),
        ).run()

    def _show_charts(self, data: ChartData) -> None:
        self.trend_data = data.trend
        self.trend_chart.set_data(
            [f"{month.period.start.month}月" for month in data.trend],
            [
                ("受理", [month.received for month in data.trend]),
                ("其中已办结", [month.concluded for month in data.trend]),
            ],
            [f"{m.period.start.year}年{m.period.start.month}月" for m in data.trend],
        )
        self._show_period("month", data.month)

    def _show_period(self, key: str, figures: PeriodFigures) -> None:
        self.period_data[key] = figures
        card, natures, approaches, on_time = self.period_cards[key]
        start = figures.period.start
        name = f"本月（{start.month}月）" if key == "month" else f"本年（{start.year}年）"
        card.title_label.setText(f"{name}受理 {figures.nature.total:,} 件")
        natures.set_rows(figures.nature.rows)
        approaches.set_rows(figures.approach.rows)
        on_time.setText(f"按期办结率 {figures.on_time.text()}")

    def _open_month(self, month: int, series: int) -> None:
        """A trend column clicked: that month's received (or concluded) cases in the ledger."""
        figures = self.trend_data[month]
        self.show_ledger.emit(figures.concluded_filter if series else figures.received_filter)

    def _show(self, data: DashboardData) -> None:
        self.data = data
        for key, (button, _old) in self.figures.items():
            figure = Figure(key)
            button.set_value(data.counts[figure])
            self.figures[key] = (button, data.counts.filters.get(figure))
        today = data.counts.today
        self.figures[Figure.THIS_MONTH.value][0].caption.setText(f"本月受理（{today.month}月）")
        self._fill(self.triage_list, data.awaiting_triage, "没有待甄别的事项")
        self._fill(self.visit_list, data.awaiting_visit, "没有等待回访的事项")
        self._render_greeting()

    def _open(self, figure: Figure) -> None:
        if figure in PAGES:
            self.show_page.emit(PAGES[figure][0])
            return
        case_filter = self.figures[figure.value][1]
        assert case_filter is not None  # every case figure has its filter
        self.show_ledger.emit(case_filter)

    def _show_reminder(self, reminder: str) -> None:
        """The 数据交换 banner, shown while something is due (an upload, conflicts)."""
        self.exchange_reminder = reminder
        self.exchange_banner.setText(f"⚠ 数据交换：{reminder}　→ 去数据交换" if reminder else "")
        self.exchange_banner.setVisible(bool(reminder))

    def _fill(self, widget: QListWidget, rows: list[CaseRow], empty: str) -> None:
        widget.clear()
        if not rows:
            widget.addItem(empty)
            return
        for row in rows:
            item = QListWidgetItem(
                f"{row.number}　{row.complainant_name}　{row.title}　（{row.received_at:%m-%d}）"
            )
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setToolTip(row.title)
            widget.addItem(item)

    def _render_greeting(self) -> None:
        now: datetime = self._context.services.clock.now()
        today: date = now.date()
        self.greeting.setText(f"今天是 {chinese_date(today)} 星期{WEEKDAYS[today.weekday()]}")
        actor = self._context.actor
        self.subtitle.setText(
            f"{actor.display_name}（{actor.role.label}），您好。以下是本窗口当前的工作量。"
        )

    def _on_changed(self, changes: Changes) -> None:
        # Referrals and warnings (classes) have figures of their own.
        if (
            changes.cases
            or changes.settings
            or changes.site
            or changes.referrals
            or changes.classes
        ):
            self.refresh()
