""".env.example lists every setting the code reads from the environment."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READER = re.compile(r"""env_(?:str|bool|int|list|float|origin)\(\s*["']([A-Z0-9_]+)["']""")


def variables_read_by_the_code() -> set[str]:
    names = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        names |= set(READER.findall(path.read_text()))
    return names


def variables_documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z0-9_]+)=", text, re.M))


def test_the_scan_finds_settings():
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= variables_read_by_the_code()


def test_every_setting_is_in_env_example():
    missing = variables_read_by_the_code() - variables_documented()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def variables_in_configuration_docs() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, re.M))


def test_every_setting_is_in_the_configuration_docs():
    missing = variables_read_by_the_code() - variables_in_configuration_docs()
    assert not missing, f"add to docs/configuration.md: {sorted(missing)}"
    assert variables_in_configuration_docs() == variables_documented()
