"""My models checks the NEF's trailing CRC-32 as an upload streams through
(models_repo/nef.py; the check itself is visiona_client.nef, tests/client/test_nef_crc.py)."""

from __future__ import annotations

import pytest

from models_repo.nef import checked_chunks
from visiona.errors import ValidationFailed

from .conftest import nef_bytes


def test_checked_chunks_passes_every_chunk_then_refuses_a_bad_end():
    good = nef_bytes(10_000)
    assert b"".join(checked_chunks([good[:3000], good[3000:]])) == good
    seen = []
    with pytest.raises(ValidationFailed) as refused:
        for chunk in checked_chunks([good[:3000], good[3000:-1] + b"\x00"]):
            seen.append(chunk)
    assert len(seen) == 2  # refused only after the last chunk went through
    assert refused.value.details["fields"][0]["field"] == "file"


@pytest.mark.django_db
def test_a_damaged_nef_is_refused_in_the_users_language(alice_api, nef_file, models_folder):
    data = nef_bytes(5_000)[:-1] + b"\x00"
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("detector.nef", data), "chips": ["KL520"]},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )
    assert response.status_code == 400
    field = response.json()["error"]["details"]["fields"][0]
    assert field["field"] == "file"
    assert "檢查碼不符" in field["message"]
