from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from core import projectfile
from gui.main_window import MainWindow
from gui.sensor_model import ADDRESS
from tests.conftest import ROOT

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def window(qtbot, path=EXAMPLE):
    w = MainWindow(projectfile.load(path), path)
    qtbot.addWidget(w)
    w.show()
    return w


def test_opens_the_example_with_a_valid_preview(qtbot):
    w = window(qtbot)
    assert w.model.rowCount() == 5
    assert "acl sensorproxy_sensors src 192.168.40.11" in w.preview.toPlainText()
    assert w.statusBar().currentMessage() == "Valid: 4 of 5 sensors enabled"
    assert w.windowTitle().startswith("north-plant.toml[*]")
    assert not w.isWindowModified()


def test_invalid_edit_shows_problems_instead_of_a_config(qtbot):
    w = window(qtbot)
    w.model.setData(w.model.index(0, ADDRESS), "0.0.0.0/0")
    qtbot.waitUntil(lambda: "problem" in w.statusBar().currentMessage())
    assert "sensors row 1, address" in w.statusBar().currentMessage()
    assert "cannot be shown until these are fixed" in w.preview.toPlainText()
    assert w.isWindowModified()
    w.undo.undo()
    qtbot.waitUntil(lambda: w.statusBar().currentMessage().startswith("Valid"))
    assert not w.isWindowModified()


def test_proxy_form_edits_reach_the_preview_and_report_problems(qtbot):
    w = window(qtbot)
    w.form.port.setValue(8080)
    qtbot.waitUntil(lambda: "http_port 8080" in w.preview.toPlainText())
    w.form.auth_user.setText("bad user")
    qtbot.waitUntil(lambda: "proxy.auth_user" in w.form.problems.text())
    assert w.isWindowModified()


def test_save_writes_the_edited_project(qtbot, tmp_path):
    path = tmp_path / "site.toml"
    path.write_bytes(EXAMPLE.read_bytes())
    w = window(qtbot, path)
    w.form.port.setValue(3129)
    w.model.setData(w.model.index(0, ADDRESS), "192.168.40.99")
    assert w.save()
    saved = projectfile.load(path)
    assert saved.proxy.port == 3129
    assert saved.sensors[0].address == "192.168.40.99"
    assert not w.isWindowModified()


def test_closing_with_unsaved_changes_asks_and_can_cancel(qtbot, monkeypatch):
    w = window(qtbot)
    w.form.port.setValue(3130)
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[1])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert not w.close()
    assert asked == ["Unsaved changes"]
    assert w.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert w.close()
