"""The order of complainants' names in lists (反映人): by pinyin, as a Chinese office expects.

A name's sort key is its GB18030 bytes, in hex so that text order is byte order on both engines.
The 3,755 characters of GB 2312's first level — nearly every surname and the common characters
of given names — are in pinyin order there (then by strokes within one reading), as in the usual
``ORDER BY CONVERT(name USING gbk)`` of Chinese systems; its second level follows, by radical
and strokes. Latin letters and digits come first; any other character (GBK's and GB18030's
additions such as 堃, Extension B such as 𠅤, punctuation) is put after every GB 2312 character.
Code point order, which SQLite and PostgreSQL's C collation use for the name itself, put 张
before 白 and 陈.
"""

from __future__ import annotations

import re
from typing import Final

SORT_ENCODING: Final = "gb18030"  # covers all of Unicode, so every name has a key
# ASCII, or a GB 2312 character of either level (lead byte B0–F7, trail A1–FE).
_PLAIN: Final = re.compile(rb"(?:[\x00-\x7f]|[\xb0-\xf7][\xa1-\xfe])*")
_AFTER: Final = "ff"  # before another character's bytes: after every GB 2312 one


def name_key(name: str) -> str:
    """The key names are sorted by (``complainants.name_key``)."""
    encoded = name.encode(SORT_ENCODING, errors="replace")
    if _PLAIN.fullmatch(encoded):
        return encoded.hex()
    parts = []
    for character in name:
        one = character.encode(SORT_ENCODING, errors="replace")
        parts.append(one.hex() if _PLAIN.fullmatch(one) else _AFTER + one.hex())
    return "".join(parts)
