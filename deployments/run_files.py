"""A run's files in the models storage: ``runs/<run id>/inputs/<n>`` and
``runs/<run id>/outputs/<n>.npz``, written and read in chunks, never whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from models_repo.storage import CHUNK, delete_stored_file, open_stored_file, store_stream


def input_name(run_id: str, index: int) -> str:
    return f"runs/{run_id}/inputs/{index}"


def output_name(run_id: str, index: int) -> str:
    return f"runs/{run_id}/outputs/{index}.npz"


def store(name: str, chunks: Iterable[bytes], *, max_bytes: int) -> tuple[str, int, str]:
    """(stored name, size, sha256); FileTooLarge past ``max_bytes``, nothing left then."""
    return store_stream(name, chunks, max_bytes=max_bytes)


def read(name: str) -> bytes:
    """A stored input or output whole: each is bounded (the contract's limits)."""
    with open_stored_file(name) as handle:
        return handle.read()


def chunks(name: str) -> Iterator[bytes]:
    with open_stored_file(name) as handle:
        while block := handle.read(CHUNK):
            yield block


def delete(names: Iterable[str]) -> None:
    for name in names:
        if name:
            delete_stored_file(name)
