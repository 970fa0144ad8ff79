"""Demo data (演示数据): two years of a county window's work, generated in seconds.

``bbcs demo --cases N`` and the benchmark use this to fill a fresh site with realistic data:
the county's departments, demo users who can log in, and N matters modelled on the seed reports
(医保结算查不到参保信息, 药品零售经营许可证反复补材料, 集资房办不了不动产权证, 公积金断缴补缴后
办不了贷款, 工程建设项目审批, 入企访廉 …) in every status, each with a timeline that
:func:`desktop_app.domain.case_flow.derive_status` accepts.

The package, by concern:

- ``service``: :class:`DemoService`, the one entry point (one write transaction, one audit entry);
- ``generator``: who comes about what, and each case's timeline;
- ``stories``: the matter templates, data in ``templates.toml`` (checked when read), and the
  phrases timelines are written with;
- ``people`` (names, 身份证号, credit codes, phones) and ``places`` (departments, towns);
- ``timing``: office hours on working days; ``rows``: rows in the database's own formats;
- ``office``: the closure, the duty roster, deadline fields, assignments and signed slips.

Numbers, check characters, deadline periods and the reopening of a case come from the domain
(:mod:`desktop_app.domain.validation`, :mod:`desktop_app.domain.deadlines` with the site's rules,
:mod:`desktop_app.domain.case_flow`), not from copies here.
"""

from desktop_app.domain.validation import credit_check_char, id_check_char, org_code_check_char
from desktop_app.services.demo.service import (
    DEMO_PASSWORD,
    DEMO_USERS,
    MAX_DEMO_CASES,
    DemoLogin,
    DemoService,
    DemoSummary,
)

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "MAX_DEMO_CASES",
    "DemoLogin",
    "DemoService",
    "DemoSummary",
    "credit_check_char",
    "id_check_char",
    "org_code_check_char",
]
