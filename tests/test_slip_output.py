"""`bbcs slip` writes a file, which is an output: the first is the original, later ones 补打."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from tests.helpers.cli import run_bbcs
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def _text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join(page.extract_text() for page in reader.pages)


def test_bbcs_slip_counts_each_file_it_writes(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path, tmp_path: Path
) -> None:
    result = services.intake.register(clerk, person_form())
    services.cases.triage(
        clerk, result.case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk,
        result.case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    number, _ = services.assignments.issue(leader, ids[0])
    services.assignments.slip_pdf(clerk, number)  # looking first changes nothing

    first, second = tmp_path / "第一份.pdf", tmp_path / "第二份.pdf"
    done = run_bbcs("slip", result.number, "--out", str(first), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert number in _text(first) and "补打" not in _text(first)
    assert services.assignments.slip_content(number)[0].print_count == 1
    done = run_bbcs("slip", result.number, "--out", str(second), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "补打" in _text(second)
    assert services.assignments.slip_content(number)[0].print_count == 2
