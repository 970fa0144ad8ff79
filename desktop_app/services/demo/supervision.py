"""The supervision half of ``bbcs demo`` (issue 16): after the generated cases, the work of the
window's people through the services — matters screened out and brought by an agent, each step
of the case path, referrals in every state and measure, classes with and without their fix and
a warning that fires, meetings with follow-up slips."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.services.app import AppServices
from desktop_app.services.demo.case_path import add_demo_case_path
from desktop_app.services.demo.classes import add_demo_classes
from desktop_app.services.demo.front_door import add_demo_front_door
from desktop_app.services.demo.meetings import add_demo_meetings
from desktop_app.services.demo.referrals import add_demo_referrals
from desktop_app.services.demo.service import DEMO_PASSWORD


@dataclass(frozen=True)
class SupervisionDemo:
    cases: int
    referrals: int
    classes: int
    meetings: int


def add_supervision_demo(services: AppServices) -> SupervisionDemo:
    """Run after ``DemoService.generate`` (its users, departments and cases are needed)."""
    clerk = services.auth.login("clerk1", DEMO_PASSWORD)
    leader = services.auth.login("leader1", DEMO_PASSWORD)
    discipline = services.auth.login("jijian1", DEMO_PASSWORD)
    cases = len(add_demo_front_door(services, clerk))
    cases += len(add_demo_case_path(services, clerk, leader))
    referrals = add_demo_referrals(services, clerk, leader, discipline)
    classes = add_demo_classes(services, clerk)
    meetings = add_demo_meetings(services, clerk, leader)
    return SupervisionDemo(cases, len(referrals), len(classes), len(meetings))
