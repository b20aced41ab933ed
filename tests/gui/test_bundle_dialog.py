"""File ▸ Make offline package bundle…, as a person uses it: the menu entry, the fields typed in, Make
bundle pressed; against a loopback archive signed with a test key (given as the dialog's archive keys)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core import bundle
from tests.archive_mirror import serve, signing_key, write_suite
from tests.conftest import ROOT
from tests.qt_helpers import open_window, trigger
from tests.unit.test_bundle_build import SQUID_WORLD, UPDATES

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"
SQUID_DEB = "pool/main/s/squid/squid_5.7-2+deb12u1_amd64.deb"


def mirror_root(tmp_path):
    key = signing_key(tmp_path / "test.pgp")
    root = tmp_path / "mirror"
    write_suite(root, "bookworm", SQUID_WORLD, key)
    write_suite(root, "bookworm-updates", UPDATES, key)
    return root


@pytest.fixture(autouse=True)
def closes_its_dialog(qtbot):
    yield
    if (dialog := QApplication.activeModalWidget()) is not None:
        dialog.close()  # as Close does; the next test starts with no dialog up


def fill(qtbot, w, tmp_path, url):
    trigger(w, "Make offline package bundle…")
    dialog = w.exports.bundle_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.release.currentData() == "bookworm"
    QTest.keyClicks(dialog.folder, str(tmp_path / "bundle"))
    QTest.keyClicks(dialog.mirror, url)
    QTest.keyClicks(dialog.keyring, str(tmp_path / "test.pgp"))
    qtbot.mouseClick(dialog.no_security, Qt.MouseButton.LeftButton)  # the test archive has no security suite
    return dialog


def test_a_bundle_made_from_the_window_becomes_the_apply_tabs_bundle(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SENSORPROXY_CACHE_DIR", str(tmp_path / "cache"))
    w = open_window(qtbot, EXAMPLE, tmp_path)
    with serve(mirror_root(tmp_path)) as server:
        dialog = fill(qtbot, w, tmp_path, server.url)
        qtbot.mouseClick(dialog.make, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.make.isEnabled(), timeout=30_000)
    assert "6 packages" in dialog.status.text()
    assert "signed by sensorproxy test archive" in dialog.status.text()
    assert "Assumed on every server of the release: debconf, libc6, passwd, perl-base" in dialog.status.text()
    assert w.panel.bundle.text() == str(tmp_path / "bundle")
    assert {p.name for p in bundle.load(tmp_path / "bundle").packages} >= {"squid", "squid-common"}


def test_stop_keeps_what_arrived_and_the_next_make_continues(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SENSORPROXY_CACHE_DIR", str(tmp_path / "cache"))
    w = open_window(qtbot, EXAMPLE, tmp_path)
    with serve(mirror_root(tmp_path)) as server:
        server.slow[SQUID_DEB] = 0.2
        dialog = fill(qtbot, w, tmp_path, server.url)
        qtbot.mouseClick(dialog.make, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "squid_5.7-2+deb12u1_amd64.deb" in dialog.status.text(), timeout=30_000)
        qtbot.mouseClick(dialog.cancel, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.make.isEnabled(), timeout=30_000)
        assert dialog.status.text().startswith("Stopped. What was downloaded is kept")
        assert not (tmp_path / "bundle").exists()
        assert w.panel.bundle.text() == ""
        server.slow.clear()
        server.asked.clear()
        qtbot.mouseClick(dialog.make, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.make.isEnabled(), timeout=30_000)
        resumed = [r for p, r in server.asked if p == SQUID_DEB]
    assert len(resumed) == 1
    assert resumed[0] is not None
    assert resumed[0].startswith("bytes=")  # it continued from what the stopped run kept
    assert "6 packages" in dialog.status.text()
