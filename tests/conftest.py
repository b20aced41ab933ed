"""Shared test helpers. With CI=true a missing prerequisite fails the test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.SecretService import Keyring as SecretServiceKeyring

from core.model import Project, ProxySettings, Sensor, SshTarget
from tests.lab.lab import SecretService

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # GUI tests, also those in the lab, never need a display
IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent


def require(condition: bool, what: str) -> None:
    """Skip when a prerequisite is missing on a developer machine; fail under CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"prerequisite missing under CI=true: {what}", pytrace=False)
    pytest.skip(f"prerequisite missing: {what}")


def require_tool(name: str) -> str:
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    require(path is not None, f"the {name!r} program (the test command installs it as root)")
    assert path is not None
    return path


def make_project(*sensors: Sensor, **proxy: object) -> Project:
    return Project(
        site="Test Site",
        ssh=SshTarget(host="192.0.2.10", user="root"),
        proxy=ProxySettings(**proxy),  # type: ignore[arg-type]
        sensors=tuple(sensors),
    )


@pytest.fixture(scope="session")
def squid_bin() -> str:
    """The real Squid, for `squid -k parse` of what sensorproxy renders."""
    return require_tool("squid")


@pytest.fixture
def three_sensors() -> tuple[Sensor, ...]:
    return (
        Sensor("PLC-1", "10.20.0.5", notes="Line 1"),
        Sensor("PLC-2", "10.20.0.6"),
        Sensor("Cell 3", "10.20.1.0/24", enabled=False),
    )


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


@pytest.fixture
def memory():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


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


# Figures the suite prints at the end (issue 8): faults injected and survived, hostile inputs handled.
FIGURES: dict[str, int] = {"faults injected": 0, "faults survived": 0, "inputs tried": 0, "inputs handled": 0}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if any(FIGURES.values()):
        terminalreporter.section("robustness figures")
        terminalreporter.write_line(
            f"faults injected in the lab: {FIGURES['faults injected']}, survived: {FIGURES['faults survived']}; "
            f"hostile or malformed inputs tried: {FIGURES['inputs tried']}, handled: {FIGURES['inputs handled']}"
        )


@pytest.fixture(autouse=True)
def private_log(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's log goes to a directory of its own, and no log handler outlives the test."""
    import logging

    folder = tmp_path_factory.mktemp("log")
    monkeypatch.setenv("SENSORPROXY_LOG_DIR", str(folder))
    log = logging.getLogger("sensorproxy")
    before = list(log.handlers)
    yield folder / "sensorproxy.log"
    for handler in log.handlers[len(before) :]:
        handler.close()
    log.handlers[:] = before


class Listener:
    """A TCP port on 127.0.0.1 that accepts and hangs up at once: it counts who connected."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()
