"""Why a bundle or an acknowledgement is not imported: the error the exchange raises for it."""

from __future__ import annotations

from desktop_app.errors import UserError


class BundleRefused(UserError):
    """A bundle (or acknowledgement) that is not imported, with the reason in Chinese.

    ``code`` names the reason for scripts (``bbcs import --json``): not_a_bundle, too_new, too_old,
    not_addressed, unknown_site, revoked_site, wrong_key, tampered, truncated, bad_signature,
    unsafe_name, duplicate_name, unexpected_member, missing_member, size_mismatch, too_large,
    bad_content, wrong_kind, unreadable (the file could not be read: a pulled stick).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
