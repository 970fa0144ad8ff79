"""``bbcs bulletin`` (issue 17): the period's figures as JSON, and a numbered PDF with --out."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from tests.helpers.cli import as_user, run_bbcs
from tests.helpers.factories import USER_PASSWORD
from tests.test_statistics import build_period

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-30")


def test_bulletin_prints_the_figures_and_writes_a_numbered_pdf(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path, tmp_path: Path
) -> None:
    build_period(services, clerk, leader)
    services.close()
    env = as_user("clerk1", USER_PASSWORD)
    result = run_bbcs("bulletin", *PERIOD, "--json", data_dir=data_dir, env=env)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["totals"]["received"] == 9
    assert figures["totals"]["concluded"] == 3
    assert figures["previous"]["totals"]["received"] == 1
    # Every rate carries its denominator (the subprocess runs on today's real clock).
    assert figures["visit_rate"] == {"numerator": 2, "denominator": 3, "text": "66.7%（2/3）"}
    assert figures["breakdowns"]["nature"]["rows"][0] == ["未甄别", 5]
    plain = run_bbcs("bulletin", *PERIOD, data_dir=data_dir, env=env)
    assert plain.returncode == 0, plain.stderr
    assert "受理 9" in plain.stdout and "按期办结率" in plain.stdout
    out = tmp_path / "通报.pdf"
    issued = run_bbcs("bulletin", *PERIOD, "--out", str(out), data_dir=data_dir, env=env)
    assert issued.returncode == 0, issued.stderr
    assert "第1期" in issued.stdout
    assert out.read_bytes().startswith(b"%PDF")
    again = run_bbcs(
        "bulletin", *PERIOD, "--out", str(tmp_path / "2.pdf"), data_dir=data_dir, env=env
    )
    assert again.returncode == 0, again.stderr
    assert "第2期" in again.stdout and "本统计期已印发：〔2026〕第1期" in again.stderr


def test_bulletin_refuses_a_backwards_period(data_dir: Path, services: AppServices) -> None:
    services.close()
    env = as_user("clerk1", USER_PASSWORD)
    result = run_bbcs(
        "bulletin", "--from", "2026-11-30", "--to", "2026-11-01", data_dir=data_dir, env=env
    )
    assert result.returncode != 0
    assert "结束日期早于开始日期" in result.stderr
