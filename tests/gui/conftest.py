from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated(memory, monkeypatch, tmp_path):
    """Each GUI test gets an empty in-memory keyring and its own config directory."""
    monkeypatch.setenv("SENSORPROXY_CONFIG_DIR", str(tmp_path / "config"))
    return memory
