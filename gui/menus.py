"""The window's menus and toolbar: every entry with its shortcut and icon, wired to the window's parts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from gui import theme
from gui.operations import Op

if TYPE_CHECKING:
    from gui.main_window import MainWindow

# Standard keys some platforms leave unbound (Quit and Help on bare X11): these instead.
FALLBACK_KEYS = {QKeySequence.StandardKey.Quit: "Ctrl+Q", QKeySequence.StandardKey.HelpContents: "F1"}


def build(window: MainWindow) -> None:
    """The menus and the toolbar, each entry with its shortcut and icon."""
    bar = window.menuBar()
    toolbar = QToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    window.addToolBar(toolbar)

    file_menu = bar.addMenu("&File")
    files, exports = window.files, window.exports
    new = action(window, file_menu, "&New", QKeySequence.StandardKey.New, files.new_project, "new")
    opened = action(window, file_menu, "&Open…", QKeySequence.StandardKey.Open, files.open_project, "open")
    window.recent_menu = file_menu.addMenu("Open &Recent")
    files.fill_recent()
    saved = action(window, file_menu, "&Save", QKeySequence.StandardKey.Save, files.save, "save")
    action(window, file_menu, "Save &As…", QKeySequence.StandardKey.SaveAs, files.save_as)
    file_menu.addSeparator()
    import_csv = action(window, file_menu, "&Import CSV…", QKeySequence("Ctrl+I"), files.import_csv)
    action(window, file_menu, "&Export CSV…", QKeySequence("Ctrl+E"), exports.export_csv)
    file_menu.addSeparator()
    action(window, file_menu, "Export commissioning &sheet…", None, exports.export_sheet)
    action(window, file_menu, "&Print commissioning sheet…", QKeySequence.StandardKey.Print, exports.print_sheet)
    action(window, file_menu, "Export offline &kit…", None, exports.export_kit)
    action(window, file_menu, "Make offline package &bundle…", None, exports.make_bundle)
    file_menu.addSeparator()
    action(window, file_menu, "&Quit", QKeySequence.StandardKey.Quit, window.close)

    edit = bar.addMenu("&Edit")
    undo = window.undo.createUndoAction(window, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = window.undo.createRedoAction(window, "&Redo")
    redo.setShortcut(QKeySequence.StandardKey.Redo)
    edit.addActions([undo, redo])
    edit.addSeparator()
    sensors = window.sensors
    add = action(window, edit, "&Add sensor", QKeySequence("Ctrl+Shift+N"), sensors.add_sensor, "add")
    delete = action(window, edit, "&Delete sensors", QKeySequence.StandardKey.Delete, sensors.delete_selected, "delete")
    delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    sensors.table.addAction(delete)
    paste = action(window, edit, "&Paste rows", QKeySequence("Ctrl+Shift+V"), files.paste_rows)
    action(window, edit, "&Find", QKeySequence.StandardKey.Find, sensors.search.setFocus)

    proxy = bar.addMenu("&Proxy")
    window.server_actions = [
        action(
            window, proxy, "&Test connection", QKeySequence("Ctrl+T"), lambda: window.server.run(Op.TEST), "connect"
        ),
        action(window, proxy, "&Preview changes", QKeySequence("F5"), lambda: window.server.run(Op.PLAN), "preview"),
        action(window, proxy, "&Apply", QKeySequence("Ctrl+Return"), lambda: window.server.run(Op.APPLY), "apply"),
    ]
    proxy.addSeparator()
    window.server_actions += [
        action(window, proxy, "&Rollback…", None, lambda: window.server.run(Op.ROLLBACK)),
        action(window, proxy, "Re&move from server…", None, lambda: window.server.run(Op.REMOVE)),
    ]
    proxy.addSeparator()
    status = action(window, proxy, "Server &status", QKeySequence("F6"), lambda: window.server.run(Op.STATUS), "status")
    check = action(
        window, proxy, "&Check the way out to Azure", QKeySequence("F7"), lambda: window.server.run(Op.CHECK)
    )
    window.server_actions += [status, check]

    help_menu = bar.addMenu("&Help")
    action(window, help_menu, "&How sensorproxy works", QKeySequence.StandardKey.HelpContents, window.how_it_works)
    action(window, help_menu, "&About", None, window.about)

    window.actions_by_name = {"add": add, "paste": paste, "import": import_csv}
    toolbar.addActions([new, opened, saved])
    toolbar.addSeparator()
    toolbar.addActions([add, delete])
    toolbar.addSeparator()
    toolbar.addActions([*window.server_actions[:3], status])


def action(
    window: QMainWindow,
    menu: QMenu,
    text: str,
    key: QKeySequence | QKeySequence.StandardKey | None,
    slot: Callable[[], object],
    icon: str | None = None,
) -> QAction:
    """A menu entry; `slot` is called with nothing (a signal's `checked` never reaches it)."""
    entry = QAction(text, window)
    if key is not None:
        keys = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [key]
        if not keys and isinstance(key, QKeySequence.StandardKey) and key in FALLBACK_KEYS:
            keys = [QKeySequence(FALLBACK_KEYS[key])]  # a standard key the platform leaves unbound (Quit, bare X11)
        entry.setShortcuts(keys)
    if icon:
        entry.setIcon(theme.icon(icon))
    # triggered(bool checked) would land in a slot's first parameter (a path, say): slots get nothing.
    entry.triggered.connect(lambda _checked=False: slot())
    menu.addAction(entry)
    return entry
