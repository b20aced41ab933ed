"""The Linux packages, built by packaging/build and checked as an engineer would use them: the frozen
CLI and window, the frozen keyring against a real Secret Service, and the .deb installed with dpkg."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import __version__
from tests.conftest import require, require_tool
from tests.packaging.conftest import DEB, EXAMPLE


def run(argv: list[str], env: dict[str, str] | None = None, home: Path | None = None):
    full = {"PATH": os.environ["PATH"], "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    if home:
        full["HOME"] = str(home)
        full["XDG_CONFIG_HOME"] = str(home / ".config")
    return subprocess.run(argv, capture_output=True, text=True, env=full, timeout=120, check=False)


def test_frozen_cli_answers_and_renders_the_example(built, tmp_path):
    version = run([str(built / "sensorproxy"), "--version"], home=tmp_path)
    assert version.stdout.strip() == f"sensorproxy {__version__}"
    rendered = run([str(built / "sensorproxy"), "render", str(EXAMPLE)], home=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert "\n192.168.40.11/32 # sensor Boiler%20house" in rendered.stdout
    keys = run([str(built / "sensorproxy"), "archive-keys"], home=tmp_path)  # a command imported when it runs
    assert keys.returncode == 0, keys.stderr
    assert "debian: debian-archive-keyring.pgp" in keys.stdout


def test_frozen_window_shows_and_exits(built, tmp_path):
    proc = run([str(built / "sensorproxy-gui"), "--self-test", str(EXAMPLE)], home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "window shown, 5 sensors" in proc.stdout


def test_frozen_keyring_is_the_secret_service(built, secret_service, tmp_path):
    proc = run([str(built / "sensorproxy"), "credentials", "status", str(EXAMPLE)], env=secret_service.env)
    assert proc.returncode == 0, proc.stderr
    assert "passwords: keyring.backends.SecretService.Keyring" in proc.stdout
    assert "not secure" not in proc.stdout


def test_frozen_build_leaves_out_unused_qt(built):
    names = {p.name for p in built.rglob("*")}
    assert not any(n.startswith(("libQt6Quick", "libQt6Qml", "libqgtk3", "libgtk-3")) for n in names)
    assert "libqxcb.so" in names
    assert "libqsvgicon.so" in names


@pytest.fixture
def installed(built) -> Iterator[None]:
    require(os.geteuid() == 0, "root, to install the .deb")
    require_tool("dpkg")
    proc = subprocess.run(["dpkg", "-i", str(DEB)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    try:
        yield
    finally:
        subprocess.run(["dpkg", "-r", "sensorproxy"], capture_output=True, timeout=300, check=False)


def test_deb_installs_under_opt_with_launchers_and_a_menu_entry(installed, tmp_path):
    assert Path("/opt/sensorproxy/sensorproxy-gui").is_file()
    assert "Exec=sensorproxy-gui %f" in Path("/usr/share/applications/sensorproxy.desktop").read_text()
    assert Path("/usr/share/icons/hicolor/scalable/apps/sensorproxy.svg").is_file()
    assert run(["/usr/bin/sensorproxy", "--version"], home=tmp_path).stdout.strip() == f"sensorproxy {__version__}"
    gui = run(["/usr/bin/sensorproxy-gui", "--self-test", str(EXAMPLE)], home=tmp_path)
    assert gui.returncode == 0, gui.stderr
