"""The exchange through the ``bbcs`` command, as a script at a county and at the city runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import run_bbcs, subprocess_env


def init(data_dir: Path, code: str, name: str, short: str, level: str) -> None:
    env = subprocess_env(BBCS_ADMIN_PASSWORD="Admin12345")
    result = run_bbcs(
        "init",
        "--site-code",
        code,
        "--site-name",
        name,
        "--short-name",
        short,
        "--level",
        level,
        data_dir=data_dir,
        env=env,
    )
    assert result.returncode == 0, result.stderr


def ok(*args: str, data_dir: Path) -> str:
    result = run_bbcs(*args, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_county_and_city_exchange_bundles_from_the_command_line(tmp_path: Path) -> None:
    county, city = tmp_path / "杞县 数据", tmp_path / "开封 数据"
    init(county, "410221", "杞县办不成事监督窗口", "杞县", "county")
    init(city, "410200", "开封市办不成事监督窗口", "开封", "city")
    rows = [
        {
            "complainant_type": "person",
            "name": "李娜",
            "id_number": "11010519491231002X",
            "phone": "13812345678",
            "title": "不动产证办理被要求重复提交材料",
            "description": "网上反映：三次提交仍被退回。",
            "area": "不动产登记",
            "channel": "online",
        }
    ]
    batch = tmp_path / "网上反映.json"
    batch.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    ok("intake", "--from", str(batch), data_dir=county)

    ok("keys", "export", "--out", str(tmp_path / "county.json"), data_dir=county)
    ok("keys", "export", "--out", str(tmp_path / "city.json"), data_dir=city)
    assert "已登记" in ok("keys", "trust", str(tmp_path / "city.json"), data_dir=county)
    assert "已登记" in ok("keys", "trust", str(tmp_path / "county.json"), data_dir=city)
    listed = json.loads(ok("keys", "list", "--json", data_dir=city))
    assert [s["code"] for s in listed] == ["410221"] and listed[0]["state"] == "trusted"

    stick = tmp_path / "U盘"
    stick.mkdir()
    sent = json.loads(ok("export", "--to", str(stick), "--json", data_dir=county))
    assert sent["counts"]["cases"] == 1 and Path(sent["path"]).is_file()

    dry = json.loads(ok("import", str(stick), "--dry-run", "--json", data_dir=city))
    assert dry["dry_run"] is True and dry["added"] > 0 and dry["refused"] == 0
    assert json.loads(ok("cases", "--json", data_dir=city)) == []

    done = json.loads(ok("import", sent["path"], "--json", data_dir=city))
    assert done["added"] == dry["added"] and done["refused"] is False
    cases = json.loads(ok("cases", "--search", "李娜", "--json", data_dir=city))
    assert [c["number"] for c in cases] == ["杞县-2026-0001"] or len(cases) == 1
    again = json.loads(ok("import", sent["path"], "--json", data_dir=city))
    assert again["added"] == 0 and again["updated"] == 0

    ack = Path(done["ack_path"])
    assert ack.is_file()
    assert "已确认" in ok("import", str(stick), data_dir=county)
    assert "没有未导入" in ok("import", str(stick), data_dir=county)

    # Revoked: the next bundle is refused with a reason and a non-zero exit.
    ok("keys", "revoke", "410221", "--reason", "U盘丢失", data_dir=city)
    second = json.loads(ok("export", "--to", str(stick), "--json", data_dir=county))
    result = run_bbcs("import", second["path"], "--json", data_dir=city)
    assert result.returncode == 2
    summary = json.loads(result.stdout)
    assert summary["refused"] is True and "吊销" in summary["reason"]


def test_bad_arguments_get_a_plain_message(tmp_path: Path) -> None:
    county = tmp_path / "county"
    init(county, "410221", "杞县办不成事监督窗口", "杞县", "county")
    result = run_bbcs("export", "--to", str(tmp_path / "没有这个U盘"), data_dir=county)
    assert result.returncode == 2 and "U盘可能已拔出" in result.stderr
    result = run_bbcs("export", "--to", str(tmp_path), data_dir=county)
    assert result.returncode == 2 and "尚未登记市级站点" in result.stderr
    result = run_bbcs("keys", "trust", str(tmp_path / "missing.json"), data_dir=county)
    assert result.returncode == 2 and "无法读取身份文件" in result.stderr
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}", "utf-8")
    result = run_bbcs("keys", "trust", str(bogus), data_dir=county)
    assert result.returncode == 2 and "身份文件格式不正确" in result.stderr
    result = run_bbcs("import", str(tmp_path / "nothing.bbcs"), data_dir=county)
    assert result.returncode == 2 and "找不到" in result.stderr


def test_a_site_is_registered_only_with_the_fingerprint_its_owner_tells(tmp_path: Path) -> None:
    """The window has the fingerprint checked before it registers a site; `keys trust` took
    any file. With --fingerprint a file whose fingerprint differs (a swapped file) registers
    nothing; the right one, written as told, registers; a script without it is warned."""
    import re

    county, city = tmp_path / "county", tmp_path / "city"
    init(county, "410221", "杞县办不成事监督窗口", "杞县", "county")
    init(city, "410200", "开封市办不成事监督窗口", "开封", "city")
    exported = ok("keys", "export", "--out", str(tmp_path / "city.json"), data_dir=city)
    told = re.search(r"指纹 ([0-9A-F-]+)", exported)
    assert told is not None
    wrong = "0000-0000-0000-0000"
    refused = run_bbcs(
        "keys", "trust", str(tmp_path / "city.json"), "--fingerprint", wrong, data_dir=county
    )
    assert refused.returncode == 2 and "不符" in refused.stderr and told.group(1) in refused.stderr
    assert json.loads(ok("keys", "list", "--json", data_dir=county)) == []
    spoken = told.group(1).lower().replace("-", " ")  # as it was read out on the phone
    registered = ok(
        "keys", "trust", str(tmp_path / "city.json"), "--fingerprint", spoken, data_dir=county
    )
    assert "已登记" in registered
    unchecked = run_bbcs("keys", "trust", str(tmp_path / "city.json"), data_dir=county)
    assert "没有核对指纹" in unchecked.stderr
