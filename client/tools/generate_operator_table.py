"""Generate ``visiona_client/preflight/operator_table.py`` from Kneron's operator table.

The input is Kneron's "Hardware Supported Operators" page (markdown, kept beside this
script as ``kneron-operators.md``): one row per ONNX operator, one column per chip,
``Y`` (the NPU runs it), ``N`` (it falls back to the CPU), optionally with a numbered
note (``Y<sub>7</sub>``) whose text, under "Notes:", gives the conditions.

    python client/tools/generate_operator_table.py [TABLE.md] [OUTPUT.py]

The scanner never reads the markdown at run time: it imports the generated module.
``tests/client/test_preflight_operator_table.py`` checks that the committed module is
what this script makes from the committed markdown.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_INPUT = HERE / "kneron-operators.md"
DEFAULT_OUTPUT = HERE.parent / "visiona_client" / "preflight" / "operator_table.py"

_CELL = re.compile(r"^(Y|N)(?:<sub>(\d+)</sub>)?$")
_NOTE = re.compile(r"^(\d+)\.\s?(.*)$")
_SOURCE = re.compile(r"<!--\s*Source:\s*(.*?)\s*-->")


# One operator's row: per chip, ("Y" NPU or "N" CPU, note number or None).
Row = tuple[tuple[str, int | None], ...]


def parse(markdown: str) -> tuple[str, list[str], dict[str, Row], dict[int, str]]:
    """(source line, chips, {op: ((support, note), ...)}, {note: text})."""
    source_match = _SOURCE.search(markdown)
    source = source_match.group(1).split(".")[0] if source_match else "Kneron's operator table"
    chips: list[str] = []
    operators: dict[str, Row] = {}
    notes: dict[int, list[str]] = {}
    current = None
    in_notes = False
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if line.strip() == "Notes:":
            in_notes = True
            continue
        if in_notes:
            match = _NOTE.match(line)
            if match:
                current = int(match.group(1))
                notes[current] = [match.group(2).strip()]
            elif current is not None and line.strip():
                # Nested bullets keep their depth: 4 spaces in the page, 2 here.
                depth = (len(line) - len(line.lstrip()) - 4) // 4
                notes[current].append("  " * max(depth, 0) + line.strip())
            continue
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == "Node":
            chips = cells[1:]
            continue
        if set(cells[0]) <= {"-", " "}:
            continue
        values = []
        for cell in cells[1:]:
            match = _CELL.match(cell)
            if match is None:
                raise ValueError(f"unreadable cell {cell!r} in row {cells[0]!r}")
            values.append((match.group(1), int(match.group(2)) if match.group(2) else None))
        if len(values) != len(chips):
            raise ValueError(f"row {cells[0]!r} has {len(values)} cells for {len(chips)} chips")
        operators[cells[0]] = tuple(values)
    texts = {number: "\n".join(lines) for number, lines in notes.items()}
    return source, chips, operators, texts


def render(source: str, chips: list[str], operators: dict[str, Row], notes: dict[int, str]) -> str:
    out = [
        '"""Kneron\'s operator table per chip. GENERATED: do not edit by hand.',
        "",
        "Made by client/tools/generate_operator_table.py from client/tools/kneron-operators.md",
        f"({source}).",
        'SUPPORT[op][i] is ("Y" NPU or "N" CPU, note number or None) for CHIPS[i].',
        '"""',
        "",
        f"CHIPS = ({', '.join(_q(chip) for chip in chips)})",
        "",
        "SUPPORT = {",
    ]
    for op, values in operators.items():
        cells = ", ".join(f"({_q(support)}, {note})" for support, note in values)
        out.append(f"    {_q(op)}: ({cells}),")
    out += ["}", "", "NOTES = {"]
    for number, text in notes.items():
        pieces = text.split("\n")
        line = f"    {number}: {_q(text)},"
        if len(line) <= 100:
            out.append(line)
            continue
        out.append(f"    {number}: (")
        for index, piece in enumerate(pieces):
            piece = piece + ("\n" if index < len(pieces) - 1 else "")
            for part in _wrap(piece, 80):
                out.append(f"        {_q(part)}")
        out.append("    ),")
    out += ["}", ""]
    return "\n".join(out)


def _q(text: str) -> str:
    """A double-quoted literal, as the formatter writes it (the table is ASCII)."""
    return json.dumps(text)


def _wrap(text: str, width: int) -> list[str]:
    parts = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width)
        cut = width if cut <= 0 else cut + 1
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return parts


def main(argv: list[str]) -> int:
    source_path = Path(argv[0]) if argv else DEFAULT_INPUT
    output_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    output_path.write_text(render(*parse(source_path.read_text(encoding="utf-8"))), "utf-8")
    print(f"wrote {output_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
