"""Write deploy/.env from deploy/.env.example: a random value for every <placeholder>.

    python3 deploy/new_env.py visiona.example.com [--output deploy/.env]

Each placeholder name gets one value, used wherever the name appears (the PostgreSQL
password in POSTGRES_PASSWORD and in DATABASE_URL alike); visiona.example.com becomes
the given host name. The file is written with mode 600, and an existing one is never
overwritten: its secrets are the running site's. Python's standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / ".env.example"
EXAMPLE_HOST = "visiona.example.com"
PLACEHOLDER = re.compile(r"<([a-z0-9-]+)>")
# Letters and digits only: the values sit inside URLs (DATABASE_URL, REDIS_URL).
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LENGTH = 50
HOST_NAME = re.compile(r"^[A-Za-z0-9.-]+$")


def random_value() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def render(example: str, host: str) -> str:
    values: dict[str, str] = {}

    def value_for(match: re.Match) -> str:
        return values.setdefault(match.group(1), random_value())

    return PLACEHOLDER.sub(value_for, example).replace(EXAMPLE_HOST, host)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host", help="the site's host name, e.g. visiona.example.com")
    parser.add_argument("--output", type=Path, default=HERE / ".env")
    options = parser.parse_args(argv)
    if not HOST_NAME.fullmatch(options.host):
        parser.error(f"not a host name: {options.host!r}")
    if options.output.exists():
        parser.error(f"{options.output} exists; it holds the site's secrets: not overwritten")
    text = render(EXAMPLE.read_text(), options.host)
    descriptor = os.open(options.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as output:
        output.write(text)
    print(f"wrote {options.output}: check it, then `docker compose up -d`")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
