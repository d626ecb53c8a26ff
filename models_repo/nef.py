"""What visionA checks of a NEF before keeping it: its trailing CRC-32.

The same check the agent makes before it installs a model (one implementation,
``visiona_client.nef``): a file cut short or damaged on its way fails it, and is better
refused at upload, with a message, than found out on a device at deploy time
(``crc_mismatch``). Checked while the upload streams through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.utils.translation import gettext_lazy as _
from visiona_client.nef import TrailingCrc

from models_repo.errors import invalid_field


def checked_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` passed on as they come; after the last, a NEF whose CRC-32 does not
    match raises a validation error on the ``file`` field (the storage then removes
    what it wrote)."""
    check = TrailingCrc()
    for chunk in chunks:
        check.feed(chunk)
        yield chunk
    if not check.matches():
        raise invalid_field(
            "file",
            _(
                "This is not a complete NEF file: its checksum does not match, so it was "
                "cut short or damaged. Compile or download it again."
            ),
        )
