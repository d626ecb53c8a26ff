"""Every catalogued string has a Traditional Chinese translation, compiled."""

import gettext
import json
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hant" / "LC_MESSAGES"
CATALOGUES = sorted(LOCALE.glob("*.po"))


def entries(po_text: str) -> dict[str, str]:
    def join(quoted: str) -> str:
        return "".join(json.loads(line) for line in quoted.split("\n"))

    # Keyed as the compiled catalogue keys them: "context\x04msgid" for a pgettext entry.
    pattern = r'^(?:msgctxt (".*")\n)?msgid (".*"(?:\n".*")*)\nmsgstr (".*"(?:\n".*")*)'
    return {
        (join(m.group(1)) + "\x04" if m.group(1) else "") + join(m.group(2)): join(m.group(3))
        for m in re.finditer(pattern, po_text, re.M)
        if m.group(2) != '""'
    }


def untranslated(po_text: str) -> list[str]:
    fuzzy = re.findall(r'^#, fuzzy\n(?:#.*\n)*msgid (".+")', po_text, re.M)
    return fuzzy + [msgid for msgid, msgstr in entries(po_text).items() if not msgstr]


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.name for p in CATALOGUES])
def test_the_catalogue_is_complete(path):
    assert not untranslated(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.name for p in CATALOGUES])
def test_the_compiled_catalogue_matches_the_source(path):
    with path.with_suffix(".mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    for msgid, msgstr in entries(path.read_text(encoding="utf-8")).items():
        assert catalog.get(msgid) == msgstr, f"run `make messages`: {msgid!r} is stale"


def test_django_serves_the_translation():
    with translation.override("zh-hant"):
        assert translation.gettext("Sign in") == "登入"


def test_the_language_switchs_change_leaves_django_admins_change_alone():
    """Our "Change" (switch the language) has its own context; Django admin's stays 修改."""
    with translation.override("zh-hant"):
        assert translation.pgettext("language switch", "Change") == "切換"
        assert translation.gettext("Change") == "修改"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """`make messages` was run: extracting the strings anew finds nothing missing."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    if not shutil.which("xgettext"):
        pytest.skip("needs GNU gettext (xgettext)")
    for name in (
        "visiona",
        "conversion",
        "devices",
        "deployments",
        "models_repo",
        "relay",
        "sandbox",
        "tokens",
        "templates",
    ):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "manage.py", tmp_path)
    (tmp_path / "locale").mkdir()
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "VISIONA_DATA_DIR": str(tmp_path / "var")}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hant", "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = entries((tmp_path / "locale/zh_Hant/LC_MESSAGES/django.po").read_text("utf-8"))
    catalogued = entries((LOCALE / "django.po").read_text("utf-8"))
    missing = sorted(set(fresh) - set(catalogued))
    assert not missing, f"run `make messages` and translate: {missing[:5]}"
