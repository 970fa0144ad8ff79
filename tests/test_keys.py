"""The site's keys and the signed QR code on slips (DESIGN.md §5, §6): real files, real crypto."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.errors import UserError
from desktop_app.services.context import FixedClock
from desktop_app.services.keys import (
    SLIP_PAYLOAD_PREFIX,
    PublicIdentity,
    SiteKeys,
    sign_slip,
    verify_slip_payload,
)

SITE = "410221"
SLIP = "杞纪窗交〔2026〕12号"
CONTENT_HASH = hashlib.sha256("交办单正文：反映人张三，事项……".encode()).hexdigest()
NOW = datetime(2026, 11, 25, 9, 30)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SiteKeys:
    site_keys = SiteKeys(tmp_path_factory.mktemp("数据 目录") / "keys", clock=FixedClock(NOW))
    site_keys.create()
    return site_keys


@pytest.fixture(scope="module")
def trusted(keys: SiteKeys) -> dict[str, str]:
    return {SITE: keys.signing_public_key()}


@pytest.fixture(scope="module")
def payload(keys: SiteKeys) -> str:
    return sign_slip(keys, SITE, SLIP, CONTENT_HASH)


# Making and keeping the keys ----------------------------------------------------------------


def test_create_writes_both_keys_and_survives_a_reload(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys", clock=FixedClock(NOW))
    assert not keys.exists()
    keys.create()
    assert keys.exists()
    assert keys.signing_key_path.read_text(encoding="ascii").startswith(
        "-----BEGIN PRIVATE KEY-----"
    )
    assert keys.encryption_key_path.read_text(encoding="ascii").startswith(
        "-----BEGIN PRIVATE KEY-----"
    )
    assert [p.name for p in (tmp_path / "keys").iterdir() if p.name.endswith(".tmp")] == []

    reloaded = SiteKeys(tmp_path / "keys")
    assert reloaded.signing_public_key() == keys.signing_public_key()
    assert reloaded.encryption_public_key() == keys.encryption_public_key()
    assert reloaded.signing_public_key() != reloaded.encryption_public_key()
    assert reloaded.identity(SITE, "杞县", "county").created_at == "2026-11-25T09:30:00"


def test_create_refuses_to_overwrite_existing_keys(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys")
    keys.create()
    before = keys.signing_key_path.read_bytes(), keys.encryption_key_path.read_bytes()
    with pytest.raises(UserError, match="密钥已存在"):
        SiteKeys(tmp_path / "keys").create()
    assert (keys.signing_key_path.read_bytes(), keys.encryption_key_path.read_bytes()) == before


def test_create_refuses_when_only_one_key_file_is_left(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys")
    keys.create()
    keys.signing_key_path.unlink()
    fresh = SiteKeys(tmp_path / "keys")
    assert not fresh.exists()
    with pytest.raises(UserError, match=re.escape("encryption_x25519.pem")):
        fresh.ensure()


def test_ensure_creates_once_and_then_keeps_the_same_keys(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys")
    keys.ensure()
    first = keys.signing_public_key()
    again = SiteKeys(tmp_path / "keys")
    again.ensure()
    assert again.signing_public_key() == first


@pytest.mark.skipif(os.name != "posix", reason="file modes are a POSIX notion")
def test_private_key_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys")
    keys.create()
    for path in (keys.signing_key_path, keys.encryption_key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_using_keys_that_were_never_made_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="尚未生成密钥"):
        SiteKeys(tmp_path / "keys").sign(b"x")


def test_a_damaged_key_file_is_reported_not_regenerated(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys")
    keys.create()
    keys.signing_key_path.write_text("not a key", encoding="ascii")
    with pytest.raises(UserError, match="密钥文件已损坏"):
        SiteKeys(tmp_path / "keys").signing_public_key()
    SiteKeys(tmp_path / "keys").ensure()
    assert keys.signing_key_path.read_text(encoding="ascii") == "not a key"
    with pytest.raises(UserError, match="密钥已存在"):
        SiteKeys(tmp_path / "keys").create()


def test_keys_swapped_between_files_are_refused(tmp_path: Path) -> None:
    keys = SiteKeys(tmp_path / "keys")
    keys.create()
    signing = keys.signing_key_path.read_bytes()
    keys.signing_key_path.write_bytes(keys.encryption_key_path.read_bytes())
    keys.encryption_key_path.write_bytes(signing)
    with pytest.raises(UserError, match="不是 Ed25519 私钥"):
        SiteKeys(tmp_path / "keys").sign(b"x")
    with pytest.raises(UserError, match="不是 X25519 私钥"):
        SiteKeys(tmp_path / "keys").encryption_public_key()


# The public identity ------------------------------------------------------------------------


def test_identity_round_trips_through_a_json_file(keys: SiteKeys, tmp_path: Path) -> None:
    identity = keys.identity(SITE, "杞县办不成事监督窗口", "county")
    assert identity.signing_public_key == keys.signing_public_key()
    assert identity.algorithms == {"signature": "Ed25519", "encryption": "X25519+AES-256-GCM"}
    exported = tmp_path / "410221.json"
    exported.write_text(json.dumps(identity.to_json(), ensure_ascii=False), encoding="utf-8")
    loaded = PublicIdentity.from_json(json.loads(exported.read_text(encoding="utf-8")))
    assert loaded == identity
    assert loaded.fingerprint() == identity.fingerprint()


def test_fingerprint_is_short_grouped_hex_over_both_keys(keys: SiteKeys, tmp_path: Path) -> None:
    identity = keys.identity(SITE, "杞县", "county")
    fingerprint = identity.fingerprint()
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", fingerprint)
    other = SiteKeys(tmp_path / "keys")
    other.create()
    assert other.identity(SITE, "杞县", "county").fingerprint() != fingerprint
    # The site's name is not part of it: the fingerprint identifies the keys.
    assert keys.identity(SITE, "另一个名字", "county").fingerprint() == fingerprint


def _good_identity_json(keys: SiteKeys) -> dict[str, object]:
    return keys.identity(SITE, "杞县", "county").to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("signing_public_key"), "缺少“signing_public_key”"),
        (lambda d: d.update(site_code="41022"), "6位数字"),
        (lambda d: d.update(site_code=410221), "应为文本"),
        (lambda d: d.update(site_name="  "), "站点名称为空"),
        (lambda d: d.update(level="province"), "站点级别"),
        (lambda d: d.update(signing_public_key="abc"), "签名公钥"),
        (lambda d: d.update(encryption_public_key="!" * 43), "加密公钥"),
        (lambda d: d.update(created_at="昨天"), "生成时间"),
        (lambda d: d.update(algorithms=None), "algorithms"),
        (lambda d: d.update(algorithms={"signature": "RSA", "encryption": "X"}), "算法不受支持"),
        (lambda d: d.update(format=99), "请先升级本软件"),
        (lambda d: d.update(format="1"), "format"),
    ],
)
def test_from_json_refuses_a_malformed_identity(
    keys: SiteKeys, change: object, message: str
) -> None:
    data = _good_identity_json(keys)
    change(data)  # type: ignore[operator]
    with pytest.raises(UserError, match=re.escape(message)):
        PublicIdentity.from_json(data)


@pytest.mark.parametrize("garbage", [None, [], "text", 42, {}, {"site_code": "410221"}])
def test_from_json_refuses_garbage(garbage: object) -> None:
    with pytest.raises(UserError, match="站点身份文件格式不正确"):
        PublicIdentity.from_json(garbage)


# Slip QR payloads ---------------------------------------------------------------------------


def test_a_signed_slip_verifies(payload: str, trusted: dict[str, str]) -> None:
    assert payload.startswith(f"{SLIP_PAYLOAD_PREFIX}|{SITE}|{SLIP}|{CONTENT_HASH[:32]}|")
    check = verify_slip_payload(payload, trusted)
    assert check.valid
    assert (check.site_code, check.slip_number, check.content_hash_prefix) == (
        SITE,
        SLIP,
        CONTENT_HASH[:32],
    )
    assert check.message.startswith(f"核验通过：{SLIP} 由站点 {SITE} 签发")


def test_the_stored_content_is_checked_when_given(payload: str, trusted: dict[str, str]) -> None:
    check = verify_slip_payload(payload, trusted, content_hash=CONTENT_HASH)
    assert check.valid
    assert check.message == f"核验通过：{SLIP} 由站点 {SITE} 签发，内容未被改动"

    changed = hashlib.sha256("交办单正文：反映人李四，事项……".encode()).hexdigest()
    check = verify_slip_payload(payload, trusted, content_hash=changed)
    assert not check.valid
    assert check.message == "交办单内容与签发时不一致"
    assert check.slip_number == SLIP


def test_the_signature_covers_the_exact_text(keys: SiteKeys, payload: str) -> None:
    signed, _, signature = payload.rpartition("|")
    public = keys.identity(SITE, "杞县", "county").signing_public_key
    check = verify_slip_payload(payload, {SITE: public})
    assert check.valid
    assert signed.encode("utf-8") == f"BBCS1|{SITE}|{SLIP}|{CONTENT_HASH[:32]}".encode()
    assert len(signature) == 86  # 64 bytes, base64url without padding


def test_changing_any_single_character_invalidates_the_payload(
    payload: str, trusted: dict[str, str]
) -> None:
    for position, original in enumerate(payload):
        for replacement in {"A", "0", "中", "|"} - {original}:
            forged = payload[:position] + replacement + payload[position + 1 :]
            check = verify_slip_payload(forged, trusted)
            assert not check.valid, (position, forged)
            assert "核验通过" not in check.message


def test_the_unused_bits_of_the_signature_cannot_be_flipped(
    payload: str, trusted: dict[str, str]
) -> None:
    # The last base64 character of a 64-byte signature carries 2 bits that decode to nothing;
    # a lenient decoder would accept three other spellings of the same signature.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(payload[-1])
    siblings = [alphabet[(last & ~0b11) | low] for low in range(4) if (last & 0b11) != low]
    for sibling in siblings:
        assert not verify_slip_payload(payload[:-1] + sibling, trusted).valid


def test_an_unknown_site_is_named(payload: str) -> None:
    check = verify_slip_payload(payload, {"410222": "x"})
    assert not check.valid
    assert check.message == "未知站点 410221：请先导入该站点的公钥"
    assert check.site_code == SITE


def test_another_sites_key_does_not_verify(payload: str, tmp_path: Path) -> None:
    impostor = SiteKeys(tmp_path / "keys")
    impostor.create()
    check = verify_slip_payload(payload, {SITE: impostor.signing_public_key()})
    assert not check.valid
    assert check.message == "签名不符：交办单可能被伪造或改动"


def test_a_forged_slip_from_an_impostor_is_refused(
    payload: str, trusted: dict[str, str], tmp_path: Path
) -> None:
    impostor = SiteKeys(tmp_path / "keys")
    impostor.create()
    forged = sign_slip(impostor, SITE, SLIP, CONTENT_HASH)
    assert forged != payload
    check = verify_slip_payload(forged, trusted)
    assert not check.valid
    assert check.message == "签名不符：交办单可能被伪造或改动"


def test_a_broken_trusted_key_is_reported_not_raised(payload: str) -> None:
    for broken in ("", "abc", "!" * 43, "A" * 44):
        check = verify_slip_payload(payload, {SITE: broken})
        assert not check.valid
        assert "公钥无效" in check.message


@pytest.mark.parametrize(
    "slip_number",
    ["杞纪窗交〔2026〕1号", "开纪窗督〔2027〕1234号", "杞县-2026-0001", "𠀀纪窗交〔2026〕3号"],
)
def test_chinese_slip_numbers_round_trip(
    keys: SiteKeys, trusted: dict[str, str], slip_number: str
) -> None:
    payload = sign_slip(keys, SITE, slip_number, CONTENT_HASH.upper())
    check = verify_slip_payload(payload, trusted, content_hash=CONTENT_HASH)
    assert check.valid, check.message
    assert check.slip_number == slip_number


@pytest.mark.parametrize(
    ("site_code", "slip_number", "content_hash"),
    [
        ("41022", SLIP, CONTENT_HASH),
        ("４１０２２１", SLIP, CONTENT_HASH),
        (SITE, "", CONTENT_HASH),
        (SITE, "杞纪|窗交", CONTENT_HASH),
        (SITE, SLIP, CONTENT_HASH[:31]),
        (SITE, SLIP, "z" * 64),
    ],
)
def test_sign_slip_refuses_what_could_not_be_verified(
    keys: SiteKeys, site_code: str, slip_number: str, content_hash: str
) -> None:
    with pytest.raises(ValueError):
        sign_slip(keys, site_code, slip_number, content_hash)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "BBCS1",
        "BBCS1|||||",
        "BBCS1|410221|杞纪窗交〔2026〕12号|0123",
        "https://example.com/?q=BBCS1",
        "BBCS2|410221|x|" + "0" * 32 + "|" + "A" * 86,
        "BBCS1|410221|x|" + "0" * 32 + "|" + "A" * 85,
        "BBCS1|410221|x|" + "0" * 32 + "|" + "A" * 86 + "==",
        "BBCS1|410221|\ud800|" + "0" * 32 + "|" + "A" * 86,
    ],
)
def test_malformed_payloads_are_reported(payload: str, trusted: dict[str, str]) -> None:
    check = verify_slip_payload(payload, trusted)
    assert not check.valid
    assert check.message == "二维码内容格式不正确"


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    check = verify_slip_payload(text, {SITE: "A" * 43}, content_hash=text)
    assert not check.valid
    assert check.message


_fields = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    site=st.one_of(st.just(SITE), _fields),
    number=_fields,
    hash_prefix=st.one_of(st.just(CONTENT_HASH[:32]), _fields),
    signature=st.one_of(st.text(alphabet="AB-_=", min_size=80, max_size=90), _fields),
    content_hash=st.one_of(st.none(), _fields),
)
def test_near_miss_payloads_never_raise(
    site: str, number: str, hash_prefix: str, signature: str, content_hash: str | None
) -> None:
    payload = "|".join([SLIP_PAYLOAD_PREFIX, site, number, hash_prefix, signature])
    check = verify_slip_payload(
        payload, {SITE: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, content_hash
    )
    assert not check.valid
