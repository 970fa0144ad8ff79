"""Valid-looking identity numbers for tests that need more than the one in factories."""

from __future__ import annotations


def id_number(first17: str) -> str:
    """A 身份证号 with the right GB 11643 check character (weights 2^(17-i) mod 11)."""
    assert len(first17) == 17 and first17.isdigit()
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


def wrong_check(number: str) -> str:
    """The same number with a different (wrong) last character."""
    last = number[-1]
    return number[:-1] + ("1" if last != "1" else "2")
