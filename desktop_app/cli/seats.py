"""``bbcs seat enroll --to FILE`` and ``bbcs seat join FILE``: another PC (席位) joins a site
whose database is on a PostgreSQL server (services/seats.py says what a seat receives)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.domain.permissions import Permission
from desktop_app.errors import UserError

if TYPE_CHECKING:
    from desktop_app.services.seats import Enrollment

PASSPHRASE_ENV = "BBCS_SEAT_PASSPHRASE"


def add_parsers(sub: Any) -> None:
    """Adds ``seat enroll`` and ``seat join`` to the ``bbcs`` parser."""
    p = sub.add_parser(
        "seat", help="多席位：让另一台电脑加入本站点（数据库在 PostgreSQL 服务器上）"
    )
    ssub = p.add_subparsers(dest="seat_command", metavar="操作", required=True)
    s = ssub.add_parser(
        "enroll", help="在已在用的电脑上生成席位加入文件（一次性口令显示在屏幕上，只能用一次）"
    )
    s.add_argument("--to", required=True, help="席位加入文件（用U盘带到新电脑）")
    s = ssub.add_parser(
        "join",
        help="在新电脑上加入站点：bbcs --db-url 地址 seat join 文件（口令取自 "
        f"{PASSPHRASE_ENV} 或提示输入）",
    )
    s.add_argument("file", help="bbcs seat enroll 生成的席位加入文件")


def _cmd_seat(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _services
    from desktop_app.services import seats

    if args.seat_command == "enroll":
        with _services(data_dir, args, lock=True) as services:
            info = services.site.info()
            out = Path(args.to)
            passphrase = seats.enroll(
                services.db,
                services.data_key,
                services.keys,
                _actor(args),
                out,
                site_code=info.code,
                site_name=info.name,
                now=services.clock.now(),
            )
        print(f"已生成席位加入文件：{out}")
        print(f"一次性口令：{passphrase}")
        print(
            "请把文件带到新电脑，口令当面告知（不要和文件放在一起）；在新电脑上运行 "
            "bbcs --db-url 数据库地址 seat join 文件名，按提示输入口令。文件只能用一次。",
            file=sys.stderr,
        )
        return 0
    return _join(args, data_dir)


def _join(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.paths import DataLayout
    from desktop_app.services import seats
    from desktop_app.services.data_key import DataKey

    if not args.db_url:
        raise UserError(
            "加入站点需要数据库服务器的地址：bbcs --db-url postgresql+psycopg://用户:密码@"
            "服务器:5432/库名 seat join 文件名"
        )
    enrollment = seats.Enrollment.read(Path(args.file), _passphrase())
    layout = DataLayout(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_key = DataKey(layout.keys)
    fresh = not data_key.exists()
    # Everything in the keys folder before: a refused join takes back what it wrote there
    # (the data key, and the site's private keys the open installed from the database).
    before = set(layout.keys.rglob("*")) if layout.keys.exists() else set()
    keys_folder_was_there = layout.keys.exists()
    seats.install_enrollment(enrollment, data_key)
    try:
        joined = _joined(args, data_dir, enrollment)
    except BaseException:
        if fresh:  # a wrong --db-url, a used file: the new PC is left as it was
            _take_back(layout.keys, before, keep_folder=keys_folder_was_there)
        raise
    for problem in joined.problems:
        print(f"注意：{problem}（请管理员运行 bbcs check）", file=sys.stderr)
    print(
        f"本机已加入站点 {joined.site_code} {joined.site_name}；站点公钥指纹 {joined.fingerprint}"
    )
    return 0


def _take_back(folder: Path, before: set[Path], *, keep_folder: bool) -> None:
    """Remove what was written under ``folder`` since ``before`` was listed (files first, then
    the folders left empty), and the folder itself if it was not there."""
    added = sorted(set(folder.rglob("*")) - before, key=lambda p: len(p.parts), reverse=True)
    for path in added:
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
    if not keep_folder:
        with contextlib.suppress(OSError):
            folder.rmdir()


@dataclass(frozen=True)
class _Joined:
    site_code: str
    site_name: str
    fingerprint: str
    problems: list[str]


def _joined(args: argparse.Namespace, data_dir: Path, enrollment: Enrollment) -> _Joined:
    from desktop_app.cli import _actor, _services
    from desktop_app.services import integrity, seats

    with _services(data_dir, args, lock=True) as services:
        info = services.site.info()
        if info.code != enrollment.site_code:
            raise UserError(
                f"席位加入文件属于站点 {enrollment.site_code}，而这个数据库是站点 {info.code}"
                f"（{info.name}）的。请核对 --db-url。"
            )
        # The chain as this seat finds it, checked under the key, is what its anchor starts at.
        problems = integrity.reanchor(
            services.db, services.data_key, services.layout.keys, restored=False
        )
        seats.record_join(services.db, enrollment, _actor(args), services.clock.now())
        fingerprint = services.keys.identity(info.code, info.name, info.level.value).fingerprint()
    return _Joined(info.code, info.name, fingerprint, problems)


def _passphrase() -> str:
    given = os.environ.get(PASSPHRASE_ENV, "").strip()
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError(f"请输入席位加入文件的一次性口令（或设置环境变量 {PASSPHRASE_ENV}）。")
    try:
        return getpass.getpass("一次性口令：")
    except EOFError:
        raise UserError("已取消") from None


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {"seat": _cmd_seat}
PERMISSIONS: dict[str, Permission] = {"seat enroll": Permission.BACKUP_DATA}
