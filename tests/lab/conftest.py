from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends.SecretService import Keyring as SecretServiceKeyring

from core.remote.hostkeys import KnownHosts
from tests.conftest import require, require_tool
from tests.lab.lab import Lab, SecretService


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


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """The real Secret Service (gnome-keyring-daemon on a private session bus), used by this process."""
    require_tool("dbus-daemon")
    require_tool("dbus-send")
    require_tool("gnome-keyring-daemon")
    service = SecretService(tmp_path / "keyring-home")
    for key, value in service.env.items():
        monkeypatch.setenv(key, value)
    previous = keyring.get_keyring()
    keyring.set_keyring(SecretServiceKeyring())
    try:
        yield service
    finally:
        keyring.set_keyring(previous)
        service.stop()
