"""Option kinds several commands share.

``Once``: an option that names one thing (a device for ``deploy`` and ``run``). argparse
keeps the last of a repeated option, so ``--device a --device b`` deployed to b alone and
said nothing; now it is a usage error that says how to reach several.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import CliError


class Once(argparse.Action):
    """Store the value; a second one is a usage error (exit 2), with ``help_several``."""

    def __init__(self, *args: Any, several: str = "", **kwargs: Any) -> None:
        self.several = several
        super().__init__(*args, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if getattr(namespace, self.dest, None) is not None:
            hint = f": {self.several}" if self.several else ""
            parser.error(f"{option_string} takes one value, given more than once{hint}")
        setattr(namespace, self.dest, values)


def checked_uuid(kind: str, raw: str, *, listed_by: str = "") -> str:
    """A run's, deployment's or rollout's id as visionA's paths take it (any case given);
    anything else is refused before a request, where visionA would answer a bare
    not_found. ``listed_by``: the command that lists them, named in the refusal."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        where = f" ({listed_by} lists them)" if listed_by else ""
        raise CliError(
            f"Not a {kind} id: {raw!r}{where}.",
            exit_code=exit_codes.BAD_INPUT,
            code=f"{kind}_not_found",
        ) from None


def positive_int(raw: str) -> int:
    """A count of 1 or more (``--limit``): 0 or -5 are refused, not taken as 1."""
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


positive_int.__name__ = "positive whole number"
