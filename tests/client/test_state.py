"""The state file: the device token readable by its owner only, written atomically."""

from __future__ import annotations

import os
import stat

import pytest
from visiona_client import state

SAMPLE = state.State(
    server="https://visiona.example",
    device_id="d-1",
    token="vad_secret-token",
    paired_at="2026-01-01T00:00:00+00:00",
    serial="SN-1",
    chip="KL720",
)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_is_0600_in_a_0700_folder_even_with_a_loose_umask(tmp_path):
    folder = tmp_path / "agent"
    old = os.umask(0)
    try:
        path = state.save(folder, SAMPLE)
    finally:
        os.umask(old)
    assert (mode(folder), mode(path)) == (0o700, 0o600)
    assert state.load(folder) == SAMPLE


def test_an_existing_open_folder_is_closed(tmp_path):
    folder = tmp_path / "agent"
    folder.mkdir(mode=0o755)
    state.save(folder, SAMPLE)
    assert mode(folder) == 0o700


def test_a_rewrite_leaves_no_temporary_file(tmp_path):
    state.save(tmp_path, SAMPLE)
    state.save(tmp_path, SAMPLE)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_token_is_not_in_the_repr():
    assert "vad_" not in repr(SAMPLE)


def test_no_pairing_says_how_to_pair(tmp_path):
    with pytest.raises(state.StateError, match="visiona-agent pair"):
        state.load(tmp_path)


def test_a_damaged_file_is_a_clear_error(tmp_path):
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(state.StateError, match="damaged"):
        state.load(tmp_path)


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert state.default_state_dir() == tmp_path / "visiona-agent"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state.default_state_dir() == tmp_path / "home" / ".config" / "visiona-agent"
