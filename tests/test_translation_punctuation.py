# ruff: noqa: RUF001  (full-width punctuation is what this file is about)
"""Chinese sentences take full-width punctuation: a Traditional Chinese msgstr never
uses a half-width : , ( ) ? ! or ; between Chinese words (never "已經過: 3 秒").
Code, placeholders, markup and addresses inside a sentence keep their own
characters; a few fixed phrases of code are allowed by name."""

from __future__ import annotations

import re

import pytest

from tests.test_translations import CATALOGUES, entries

CHINESE = re.compile(r"[\u3400-\u9fff]")
HALF_WIDTH = re.compile(r"[:,()?!;]")
# What keeps its own characters: placeholders, tags, <code>…</code>, `code`, addresses.
NOT_PROSE = re.compile(
    r"%\(\w+\)[-+ #0]*\d*(?:\.\d+)?[sdfiu]|%[sdf]|<code>.*?</code>|<[^>]+>|`[^`]*`|https?://\S+|\{\{.*?\}\}"
)
# Code a sentence names as it is typed.
ALLOWED = ("Authorization: Bearer",)


def offences(msgstr: str) -> list[str]:
    if not CHINESE.search(msgstr):
        return []
    prose = NOT_PROSE.sub(" ", msgstr)
    for phrase in ALLOWED:
        prose = prose.replace(phrase, " ")
    return HALF_WIDTH.findall(prose)


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.name for p in CATALOGUES])
def test_chinese_sentences_use_full_width_punctuation(path):
    wrong = {
        msgid: msgstr
        for msgid, msgstr in entries(path.read_text(encoding="utf-8")).items()
        if offences(msgstr)
    }
    assert not wrong, f"half-width punctuation in: {list(wrong.values())[:5]}"


@pytest.mark.parametrize(
    ("msgstr", "found"),
    [
        ("已經過: 3 秒", [":"]),
        ("已選取,請手動複製。", [","]),
        ("手邊沒有裝置?試試", ["?"]),
        ("安裝代理程式(需要 Python 3.9)", ["(", ")"]),
        ("已經過：3 秒", []),
        ("請以 Authorization: Bearer 傳送。", []),
        ("執行 <code>visiona login --server URL</code>：", []),
        ("缺少「%(scope)s」範圍（%(url)s）", []),
        ("Times in %(zone)s (%(offset)s)", []),  # no Chinese: not a Chinese sentence
    ],
)
def test_the_check_finds_what_it_should(msgstr, found):
    assert offences(msgstr) == found
