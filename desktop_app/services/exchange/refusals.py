"""Why a bundle or an acknowledgement is not imported: the reasons, named once, and the error
that carries one."""

from __future__ import annotations

from enum import StrEnum

from desktop_app.errors import UserError


class RefusalCode(StrEnum):
    """A refusal's reason for scripts (``bbcs import --json``), reports and acknowledgements;
    the values are written out, so they never change."""

    UNREADABLE = "unreadable"  # the file could not be read: a pulled stick
    NOT_A_BUNDLE = "not_a_bundle"
    TOO_NEW = "too_new"  # a newer format: upgrade this site
    TOO_OLD = "too_old"  # made by a pre-release build
    NOT_ADDRESSED = "not_addressed"  # meant for another site
    UNKNOWN_SITE = "unknown_site"  # the sender is not registered, or its key is unusable
    REVOKED_SITE = "revoked_site"
    WRONG_KEY = "wrong_key"  # encrypted to keys this site does not hold
    TAMPERED = "tampered"
    TRUNCATED = "truncated"
    BAD_SIGNATURE = "bad_signature"
    UNSAFE_NAME = "unsafe_name"  # a member name that could escape its folder
    DUPLICATE_NAME = "duplicate_name"
    UNEXPECTED_MEMBER = "unexpected_member"
    MISSING_MEMBER = "missing_member"
    SIZE_MISMATCH = "size_mismatch"
    TOO_LARGE = "too_large"
    BAD_CONTENT = "bad_content"  # signed, but what it holds cannot be imported
    WRONG_KIND = "wrong_kind"  # a data bundle at a county, a reference bundle at the city


class BundleRefused(UserError):
    """A bundle (or acknowledgement) that is not imported, with the reason in Chinese and its
    ``code`` for scripts."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
