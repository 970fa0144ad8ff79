"""The order of complainants' names in lists (反映人): by pinyin, as a Chinese office expects.

A name's sort key (``complainants.name_key``) is the pinyin of its characters, a syllable each
without tones (domain/pinyin_readings.py: pypinyin's commonest reading; the first character
read as a surname where the two differ, 曾 zeng, 单 shan), separated by spaces; then ``!`` and
the name's GB18030 bytes in hex, which order names of the same pinyin by their characters
(strokes, within GB 2312's first level). A Latin word or a number, lower-cased, stands for
itself, so 'ABC公司' sorts among the a's and 'Zhang Wei' beside 张伟, as Excel's pinyin sort
puts them; a character with no reading (Extension B such as 𠅤, punctuation beyond ASCII) is
``~`` and its code, after every syllable; spaces are left out. Text order is byte order on
both engines (PostgreSQL compares the key in the C collation). Code point order, the name's
own, put 张 before 白 and 陈.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from desktop_app.domain.pinyin_readings import reading

SORT_ENCODING: Final = "gb18030"  # covers all of Unicode: every name has its tie-break
# Surnames read otherwise than the character's commonest reading (百家姓), for a name's first
# character.
SURNAME_READINGS: Final = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou",
    "查": "zha", "盖": "ge", "乐": "yue", "缪": "miao", "覃": "qin", "翟": "zhai",
    "秘": "bi", "种": "chong", "员": "yun", "繁": "po", "宓": "fu", "折": "she",
    "长": "chang", "重": "chong", "隗": "wei", "都": "du",
}  # fmt: skip
_NO_READING: Final = "~"  # after "z"
_WORDS: Final = re.compile(r"[0-9A-Za-z]+|\S")  # a Latin word or a number is one; no spaces


def name_key(name: str) -> str:
    """The key names are sorted by."""
    plain = name if unicodedata.is_normalized("NFKC", name) else unicodedata.normalize("NFKC", name)
    syllables = list(map(_said, _WORDS.findall(plain)))
    if plain and plain[0] in SURNAME_READINGS:
        syllables[0] = SURNAME_READINGS[plain[0]]
    return " ".join(syllables) + " !" + name.encode(SORT_ENCODING, errors="replace").hex()


def _said(word: str) -> str:
    return word.lower() if word.isascii() else _said_character(word)


@functools.cache  # a few thousand characters in all: each looked up once
def _said_character(character: str) -> str:
    said = reading(character)
    return f"{_NO_READING}{ord(character):x}" if said is None else said
