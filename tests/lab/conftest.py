from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.remote.hostkeys import KnownHosts
from tests.conftest import require, require_tool
from tests.lab.lab import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    require(os.geteuid() == 0, "root, to build network namespaces")
    for tool in ("ip", "sshd", "squid", "curl", "openssl", "sudo", "ssh-keygen", "apt-get"):
        require_tool(tool)
    running = Lab().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def known_hosts(tmp_path: Path) -> KnownHosts:
    return KnownHosts(tmp_path / "known_hosts")
