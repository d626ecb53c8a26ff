"""The run's order (tests/suite_order.py): the slowest files first, the rest as collected."""

from __future__ import annotations

from pathlib import Path

from tests.suite_order import SLOWEST_FIRST, slowest_first

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_listed_as_slow_exists():
    # A renamed or split file would otherwise silently fall back to the end of the run.
    missing = [path for path in SLOWEST_FIRST if not (ROOT / path).is_file()]
    assert missing == []
    assert len(set(SLOWEST_FIRST)) == len(SLOWEST_FIRST)


def test_listed_files_start_first_in_the_lists_order_and_the_rest_keep_theirs():
    collected = [
        "tests/a.py::test_one",
        "tests/slow.py::test_one",
        "tests/b.py::test_one",
        "tests/slower.py::test_one",
        "tests/a.py::test_two",
        "tests/slow.py::test_two[x]",
    ]
    order = slowest_first(collected, slowest=["tests/slower.py", "tests/slow.py"])
    assert [collected[index] for index in order] == [
        "tests/slower.py::test_one",
        "tests/slow.py::test_one",
        "tests/slow.py::test_two[x]",
        "tests/a.py::test_one",
        "tests/b.py::test_one",
        "tests/a.py::test_two",
    ]
