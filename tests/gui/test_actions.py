"""Every action of every menu and of the toolbar, pressed the way a person presses it: the menu entry
(QAction.trigger, as a click on it does), the toolbar button (a mouse click) and the shortcut (a key
press on the window). Each is checked for what it must do: the dialog it opens (answered or closed here)
or its effect. An exception raised in any slot fails the test (pytest-qt's capture stays on).

A new action without an entry in ACTIONS fails test_every_action_is_walked."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QToolBar

from core import projectfile
from core.model import Project, ProxySettings, Sensor, SshTarget
from core.remote.errors import NotSsh
from gui.main_window import MainWindow
from gui.sensor_model import NAME
from tests.conftest import ROOT, Listener
from tests.qt_helpers import answer_next, choose_file, close, open_window, press
from tests.qt_helpers import trigger as press_entry  # the checks take a parameter named trigger

EXAMPLE_CSV = ROOT / "resources" / "example" / "sensors.csv"


def site(port: int) -> Project:
    return Project(
        site="Walk Site",
        ssh=SshTarget(host="127.0.0.1", user="root", port=port),
        proxy=ProxySettings(sensor_host="10.77.0.1"),
        sensors=(Sensor("PLC-1", "10.77.0.5"), Sensor("PLC-2", "10.77.0.6")),
    )


@dataclass
class Walk:
    window: MainWindow
    qtbot: object
    tmp: Path
    listener: Listener


# --- what each action must do -------------------------------------------------------------------


def new(w: Walk, trigger: Callable[[], None]) -> None:
    trigger()
    assert w.window.model.rowCount() == 0
    assert w.window.form.site.text() == "New site"


def open_(w: Walk, trigger: Callable[[], None]) -> None:
    other = w.tmp / "other.toml"
    projectfile.save(Project("Other Site", SshTarget("127.0.0.1", "root"), sensors=(Sensor("X", "10.1.1.1"),)), other)
    seen = answer_next(choose_file(other))
    trigger()
    w.qtbot.waitUntil(lambda: w.window.path == other)
    assert seen.titles[0] == "Open project"
    assert w.window.form.site.text() == "Other Site"


def open_recent(w: Walk, trigger: Callable[[], None]) -> None:
    press_entry(w.window, "New")
    trigger()
    w.qtbot.waitUntil(lambda: w.window.form.site.text() == "Walk Site")


def save(w: Walk, trigger: Callable[[], None]) -> None:
    w.window.form.port.setValue(3140)
    trigger()
    assert projectfile.load(w.window.path).proxy.port == 3140
    assert not w.window.isWindowModified()


def save_as(w: Walk, trigger: Callable[[], None]) -> None:
    target = w.tmp / "renamed.toml"
    seen = answer_next(choose_file(target))
    trigger()
    assert seen.titles[0] == "Save project"
    assert projectfile.load(target).site == "Walk Site"
    assert w.window.path == target


def import_csv(w: Walk, trigger: Callable[[], None]) -> None:
    seen = answer_next(choose_file(EXAMPLE_CSV))
    trigger()
    w.qtbot.waitUntil(lambda: w.window.model.rowCount() > 2)
    assert seen.titles[0] == "Import sensors from CSV"


def export_csv(w: Walk, trigger: Callable[[], None]) -> None:
    target = w.tmp / "exported.csv"
    answer_next(choose_file(target))
    trigger()
    assert "PLC-2,10.77.0.6" in target.read_text(encoding="utf-8-sig")


def export_sheet(w: Walk, trigger: Callable[[], None]) -> None:
    target = w.tmp / "sheet.pdf"
    answer_next(choose_file(target))
    trigger()
    assert target.read_bytes().startswith(b"%PDF-")


def print_sheet(w: Walk, trigger: Callable[[], None]) -> None:
    seen = answer_next(close)
    trigger()
    assert "Print" in seen.titles[0]


def export_kit(w: Walk, trigger: Callable[[], None]) -> None:
    target = w.tmp / "kit.zip"
    answer_next(choose_file(target))
    trigger()
    assert "sensorproxy-kit/apply.sh" in zipfile.ZipFile(target).namelist()


def make_bundle(w: Walk, trigger: Callable[[], None]) -> None:
    trigger()
    dialog = QApplication.activeModalWidget()
    assert dialog is not None
    assert dialog.windowTitle() == "Make offline package bundle"
    dialog.close()  # what making one does is tests/gui/test_bundle_dialog.py's


def quit_(w: Walk, trigger: Callable[[], None]) -> None:
    trigger()
    assert not w.window.isVisible()


def undo(w: Walk, trigger: Callable[[], None]) -> None:
    w.window.sensors.table.setFocus()  # where the edit was made (in the filter box, Ctrl+Z undoes its typing)
    w.window.model.setData(w.window.model.index(0, NAME), "Renamed")
    trigger()
    assert w.window.model.sensors()[0].name == "PLC-1"


def redo(w: Walk, trigger: Callable[[], None]) -> None:
    w.window.sensors.table.setFocus()
    w.window.model.setData(w.window.model.index(0, NAME), "Renamed")
    w.window.undo.undo()
    trigger()
    assert w.window.model.sensors()[0].name == "Renamed"


def add_sensor(w: Walk, trigger: Callable[[], None]) -> None:
    trigger()
    assert w.window.model.rowCount() == 3
    assert w.window.sensors.table.currentIndex().row() == 2
    assert w.window.sensors.table.state() == w.window.sensors.table.State.EditingState


def delete_sensors(w: Walk, trigger: Callable[[], None]) -> None:
    table = w.window.sensors.table
    w.qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(table.model().index(0, 0)).center()
    )
    assert len(table.selectionModel().selectedRows()) == 1
    trigger()
    assert [s.name for s in w.window.model.sensors()] == ["PLC-2"]


def paste_rows(w: Walk, trigger: Callable[[], None]) -> None:
    QGuiApplication.clipboard().setText("Pump\t10.77.0.9\n")
    trigger()
    w.qtbot.waitUntil(lambda: w.window.model.rowCount() == 3)


def find(w: Walk, trigger: Callable[[], None]) -> None:
    w.window.sensors.table.setFocus()
    trigger()
    assert QApplication.focusWidget() is w.window.sensors.search


def connects(w: Walk, trigger: Callable[[], None]) -> None:
    """A run against a port that is not an SSH server: it connected, and says so in words."""
    seen = answer_next(press(QMessageBox.StandardButton.Ok))
    trigger()
    w.qtbot.waitUntil(lambda: bool(seen.titles), timeout=15_000)
    assert w.listener.connections == 1
    assert seen.titles[0] == NotSsh.title
    assert f"port {w.listener.port} on 127.0.0.1 answers, but not as an SSH server" in seen.texts[0]


def apply_(w: Walk, trigger: Callable[[], None]) -> None:
    trigger()
    w.qtbot.waitUntil(lambda: bool(w.window.panel.outcome.text()), timeout=15_000)
    assert w.listener.connections == 1
    assert w.window.tabs.currentWidget() is w.window.apply_page
    assert NotSsh.title in w.window.panel.outcome.text()
    assert "answers, but not as an SSH server" in w.window.panel.outcome.text()


def asks_first(w: Walk, trigger: Callable[[], None]) -> None:
    seen = answer_next(press(QMessageBox.StandardButton.Cancel))
    trigger()
    assert seen.titles[0] == "Change the server?"
    assert w.listener.connections == 0


def shows_text(title: str) -> Callable[[Walk, Callable[[], None]], None]:
    def check(_w: Walk, trigger: Callable[[], None]) -> None:
        seen = answer_next(close)
        trigger()
        assert seen.titles[0] == title

    return check


# action text (as the menu shows it, without &) -> (check, on the toolbar, has a shortcut)
ACTIONS: dict[str, tuple[Callable[[Walk, Callable[[], None]], None], bool, bool]] = {
    "New": (new, True, True),
    "Open…": (open_, True, True),
    "Open Recent ▸ 1": (open_recent, False, False),
    "Save": (save, True, True),
    "Save As…": (save_as, False, True),
    "Import CSV…": (import_csv, False, True),
    "Export CSV…": (export_csv, False, True),
    "Export commissioning sheet…": (export_sheet, False, False),
    "Print commissioning sheet…": (print_sheet, False, True),
    "Export offline kit…": (export_kit, False, False),
    "Make offline package bundle…": (make_bundle, False, False),
    "Quit": (quit_, False, True),
    "Undo": (undo, False, True),
    "Redo": (redo, False, True),
    "Add sensor": (add_sensor, True, True),
    "Delete sensors": (delete_sensors, True, True),
    "Paste rows": (paste_rows, False, True),
    "Find": (find, False, True),
    "Test connection": (connects, True, True),
    "Preview changes": (connects, True, True),
    "Apply": (apply_, True, True),
    "Rollback…": (asks_first, False, False),
    "Remove from server…": (asks_first, False, False),
    "Server status": (connects, True, True),
    "Check the way out to Azure": (connects, False, True),
    "How sensorproxy works": (shows_text("How sensorproxy works"), False, True),
    "About": (shows_text("About sensorproxy"), False, False),
}
WAYS = [
    (name, way) for name, (_, bar, key) in ACTIONS.items() for way in ("menu", *("toolbar",) * bar, *("key",) * key)
]


def menu_actions(window: MainWindow) -> dict[str, QAction]:
    """Every action reachable from the menu bar, submenus included, by the text a person reads."""
    found: dict[str, QAction] = {}

    def walk(menu: QMenu, prefix: str) -> None:
        for action in menu.actions():
            if action.isSeparator():
                continue
            text = action.text().replace("&", "")
            if action.menu():
                walk(action.menu(), f"{prefix}{text} ▸ ")
            else:
                found[f"{prefix}{text.split(' ', 1)[0] if prefix else text}"] = action

    for top in window.menuBar().actions():
        walk(top.menu(), "")
    return found


@pytest.fixture
def walk(qtbot, tmp_path, listener) -> Walk:
    path = tmp_path / "walk.toml"
    projectfile.save(site(listener.port), path)
    window = open_window(qtbot, path, tmp_path)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return Walk(window, qtbot, tmp_path, listener)


def test_every_action_is_walked(walk):
    actions = menu_actions(walk.window)
    assert set(actions) == set(ACTIONS)
    bar = toolbar(walk.window)
    on_bar = {name for name, a in actions.items() if a in bar.actions()}
    assert on_bar == {name for name, (_, b, _) in ACTIONS.items() if b}
    keyed = {name for name, a in actions.items() if not a.shortcut().isEmpty()}
    assert keyed == {name for name, (_, _, k) in ACTIONS.items() if k}


@pytest.mark.parametrize(("name", "way"), WAYS, ids=[f"{n}-{w}" for n, w in WAYS])
def test_each_action_does_what_it_says(walk, name, way):
    action = menu_actions(walk.window)[name]
    check = ACTIONS[name][0]

    def trigger() -> None:
        if way == "menu":
            action.trigger()
        elif way == "toolbar":
            walk.qtbot.mouseClick(toolbar(walk.window).widgetForAction(action), Qt.MouseButton.LeftButton)
        else:
            combo = action.shortcut()[0]
            focus = QApplication.focusWidget() or walk.window
            QTest.keyClick(focus, combo.key(), combo.keyboardModifiers())

    check(walk, trigger)
    QGuiApplication.processEvents()
    assert QApplication.activeModalWidget() is None  # every dialog it opened was answered


def toolbar(window: MainWindow) -> QToolBar:
    bar = window.findChild(QToolBar, "main-toolbar")
    assert bar is not None
    return bar
