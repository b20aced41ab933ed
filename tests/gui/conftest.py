from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Listener
from tests.qt_helpers import stop_answering


@pytest.fixture(autouse=True)
def isolated(memory, monkeypatch, tmp_path):
    """Each GUI test gets an empty in-memory keyring and its own config directory."""
    monkeypatch.setenv("SENSORPROXY_CONFIG_DIR", str(tmp_path / "config"))
    return memory


@pytest.fixture(autouse=True)
def no_leftover_answers():
    yield
    stop_answering()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()
