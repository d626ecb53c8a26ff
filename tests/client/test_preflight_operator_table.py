"""The operator table module is generated from Kneron's markdown, and matches it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from visiona_client.preflight import operator_table

TOOLS = Path(__file__).resolve().parents[2] / "client" / "tools"


def generator():
    spec = importlib.util.spec_from_file_location(
        "generate_operator_table", TOOLS / "generate_operator_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_module_is_what_the_generator_makes():
    gen = generator()
    made = gen.render(*gen.parse((TOOLS / "kneron-operators.md").read_text("utf-8")))
    assert made == Path(operator_table.__file__).read_text("utf-8")


def test_the_table_reads_as_kneron_wrote_it():
    chips = operator_table.CHIPS
    assert chips == ("520", "720", "530", "630", "730")
    assert operator_table.SUPPORT["Softmax"][chips.index("720")] == ("N", 39)
    assert operator_table.SUPPORT["Conv"][chips.index("520")] == ("Y", 6)
    assert operator_table.SUPPORT["Relu"] == (("Y", None),) * 5
    assert len(operator_table.SUPPORT) > 170
    assert operator_table.NOTES[39] == "will be decompose to ReduceSum + Div + Exp"
    assert "  - kernel is kx1" in operator_table.NOTES[4]  # nested conditions keep depth
    assert set(range(1, 47)) == set(operator_table.NOTES)
