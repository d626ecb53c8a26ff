"""The repository's docs stand on their own: nothing cites the workspace's spec
(../shared/...), and every docs/ page the code or the docs name exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", ".git", "node_modules", "staticfiles", "var", "test-artifacts"}
SUFFIXES = {".py", ".md", ".html", ".js", ".css", ".toml", ".txt", ".in", ".example", ""}


def repository_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*")
        if path.is_file()
        and not SKIP & set(path.relative_to(ROOT).parts)
        and path.suffix in SUFFIXES
        and path != Path(__file__)
    ]


def test_the_scan_reads_the_code_and_the_docs():
    names = {path.relative_to(ROOT).as_posix() for path in repository_files()}
    assert {"visiona/settings/core.py", "docs/conversion.md", "Makefile"} <= names


def test_nothing_cites_the_workspace():
    citing = [
        str(path.relative_to(ROOT))
        for path in repository_files()
        if re.search(r"\.\./shared/|/work/shared", path.read_text(errors="ignore"))
    ]
    assert citing == []


def test_every_docs_page_named_exists():
    named = set()
    for path in repository_files():
        named |= set(re.findall(r"docs/([a-z0-9_-]+\.md)", path.read_text(errors="ignore")))
    for path in (ROOT / "docs").glob("*.md"):  # links between the pages
        named |= set(re.findall(r"\]\(([a-z0-9_-]+\.md)\)", path.read_text()))
    missing = sorted(name for name in named if not (ROOT / "docs" / name).exists())
    assert missing == []
