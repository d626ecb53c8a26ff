"""``visiona``'s tables keep their columns in line when a name has wide characters
(a Chinese model name takes two columns a character in a terminal)."""

from __future__ import annotations

import io

from visiona_client.visiona_cli.output import Output, shown_width


def test_wide_characters_take_two_columns():
    assert shown_width("yolo") == 4
    assert shown_width("模型 v2") == 7
    assert shown_width("\uff56") == 2  # a full-width Latin v


def test_a_table_with_a_chinese_name_keeps_its_columns():
    out = io.StringIO()
    Output(as_json=False, out=out).table(
        [["7", "行人偵測", "KL720"], ["12", "yolo", "KL520"]], ["ID", "NAME", "CHIPS"]
    )
    lines = out.getvalue().splitlines()
    starts = {line.rstrip().split()[-1]: shown_width(line.rsplit(" ", 1)[0]) for line in lines}
    assert len(set(starts.values())) == 1, lines  # CHIPS, KL720 and KL520 start together
