"""Fixtures for My models: a private storage folder per test and a model factory."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream


def stored_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def nef_bytes(size: int = 4096, seed: int = 1) -> bytes:
    """NEF-shaped bytes: content, then its big-endian CRC-32 (as an agent verifies)."""
    block = hashlib.sha256(str(seed).encode()).digest()
    body = (block * (size // len(block) + 1))[: max(size - 4, 0)]
    return body + zlib.crc32(body).to_bytes(4, "big")


@pytest.fixture
def make_model():
    """A stored model for a user, through the same service the app uses."""
    counter = iter(range(1, 100_000))

    def make(owner, name: str | None = None, *, chips=("KL520",), size: int = 1024, **fields):
        number = next(counter)
        data = nef_bytes(size, seed=number)
        return model_create_from_stream(
            owner=owner,
            name=name or f"model {number}",
            chips=list(chips),
            source=fields.pop("source", ModelSource.UPLOADED),
            filename=f"model-{number}.nef",
            chunks=[data],
            **fields,
        )

    return make


@pytest.fixture
def nef_file():
    def make(name: str = "detector.nef", data: bytes | None = None) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, nef_bytes() if data is None else data)

    return make


def api_client(user) -> APIClient:
    """An API client signed in as ``user`` (force_authenticate: no session, no token)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alice_api(alice) -> APIClient:
    return api_client(alice)
