"""Admin helpers every app shares."""

from __future__ import annotations

from collections.abc import Sequence


def field_names(fields: Sequence[object] | None) -> list[str]:
    """An admin's flat ``fields`` as the list of names ``readonly_fields`` takes.

    ``readonly_fields = fields`` works at run time, but Django's stubs type ``fields``
    as groups of names (a list may hold tuples), which ``readonly_fields`` is not.
    """
    return [str(name) for name in fields or ()]
