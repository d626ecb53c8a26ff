"""What visionA checks of a NEF before keeping it: its trailing CRC-32, and the chip
its header names (when it names one) against the chips the user ticked.

The same check the agent makes before it installs a model (one implementation,
``visiona_client.nef``): a file cut short or damaged on its way fails it, and is better
refused at upload, with a message, than found out on a device at deploy time
(``crc_mismatch``). Checked while the upload streams through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, cast

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from visiona_client.nef import TrailingCrc, chip_in_nef

from models_repo.choices import ChipSource
from models_repo.errors import invalid_field
from visiona.chips import Chip
from visiona.errors import ValidationFailed


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


def header_chip(upload: UploadedFile) -> str | None:
    """The chip the uploaded NEF's header names, or None (a header visionA does not
    read: the ticked chips are then taken as given). The file is left at its start."""
    # An UploadedFile is a seekable binary file (Django's File proxies its methods to
    # the one it wraps), which the stubs do not say.
    return chip_in_nef(cast(BinaryIO, upload))


def check_chips(upload: UploadedFile, chips: list[str]) -> ChipSource:
    """A NEF runs on the one chip it was compiled for: when its header names it, the
    ticked chips must be that one alone (a validation error on ``chips`` otherwise, or
    on ``file`` for a chip visionA does not know). Says where the chips then come from:
    the header, or the user's word when the header names no chip visionA can read."""
    chip = header_chip(upload)
    if chip is None:
        return ChipSource.USER
    if chip not in Chip.values:
        raise invalid_field(
            "file",
            _(
                "This file is compiled for the %(chip)s (its header says so), a chip "
                "visionA does not support."
            )
            % {"chip": chip},
        )
    if list(chips) != [chip]:
        raise header_contradicted(chip)
    return ChipSource.HEADER


def header_contradicted(chip: str) -> ValidationFailed:
    """The refusal of chips other than the one the NEF's header names."""
    return invalid_field(
        "chips",
        _(
            "This file is compiled for the %(chip)s (its header says so), so it runs on "
            "that chip only: tick %(chip)s alone."
        )
        % {"chip": chip},
    )
