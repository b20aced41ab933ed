"""Driving real dialogs in tests: the next modal dialog is read and one of its buttons clicked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from core import projectfile
from core.model import Project
from core.remote.hostkeys import KnownHosts
from core.secret_kind import Kind
from gui.dialogs import LoginDialog
from gui.main_window import MainWindow


@dataclass
class Seen:
    """What the dialogs showed: their titles and all their label texts."""

    titles: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def answer_dialogs(*answers: tuple[str, str | None] | tuple[str, str | None, str], seen: Seen | None = None) -> Seen:
    """For each (button text, text to type[, check box to tick]) in order: wait for a modal dialog, type
    into its fields when given, tick the box, and click the button whose text starts with the given one."""
    seen = seen or Seen()
    queue = list(answers)

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, attempt)
            return
        button_text, typed, *tick = queue.pop(0)
        seen.titles.append(dialog.windowTitle())
        seen.texts.append("\n".join(label.text() for label in dialog.findChildren(QLabel)))
        if typed is not None:  # into every field it asks (a new password's "again" too)
            for edit in dialog.findChildren(QLineEdit):
                if edit.isVisible():
                    edit.setText(typed)
        for box in dialog.findChildren(QCheckBox):
            if tick and box.text().startswith(tick[0]):
                box.setChecked(True)
        buttons = [b for b in dialog.findChildren(QAbstractButton) if b.text().replace("&", "").startswith(button_text)]
        if not buttons:
            dialog.close()  # else the test would wait on it forever; the raise below fails the test
            raise AssertionError(f"no button {button_text!r} in {dialog.windowTitle()!r}")
        buttons[0].click()
        if queue:
            QTimer.singleShot(20, attempt)

    QTimer.singleShot(0, attempt)
    return seen


@contextmanager
def refusing_dialogs() -> Iterator[Seen]:
    """Close every modal dialog that opens inside the block, and note it: for runs that must not ask."""
    seen = Seen()

    def check() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            seen.titles.append(dialog.windowTitle())
            dialog.close()

    timer = QTimer(interval=50)
    timer.timeout.connect(check)
    timer.start()
    try:
        yield seen
    finally:
        timer.stop()


def open_window(qtbot, project: Project | Path, tmp_path: Path, known_hosts: KnownHosts | None = None) -> MainWindow:
    path = project if isinstance(project, Path) else None
    loaded = projectfile.load(project) if isinstance(project, Path) else project
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(loaded, path, settings=settings, known_hosts=known_hosts or KnownHosts(tmp_path / "kh"))
    qtbot.addWidget(window, before_close_func=_forget_changes)
    window.show()
    return window


def _forget_changes(window: MainWindow) -> None:
    """Teardown closes the window; an edited one would otherwise wait for the unsaved-changes answer."""
    window._form_dirty = False
    window.undo.setClean()


def texts(widget: QWidget) -> str:
    """Every text a widget and its children show, to prove a secret is not among them."""
    parts = [w.text() for w in widget.findChildren(QLabel)]
    parts += [w.text() for w in widget.findChildren(QLineEdit) if w.echoMode() == QLineEdit.EchoMode.Normal]
    parts += [w.toPlainText() for w in widget.findChildren(QWidget) if hasattr(w, "toPlainText")]
    return "\n".join(parts)


@dataclass
class Dialogs:
    """The modal dialogs seen (title, text) while a block ran, each answered by the next handler."""

    titles: list[str]
    texts: list[str]
    handlers: list[Callable[[QWidget], None]]


_WAITING: list[Dialogs] = []  # handlers still waiting for a dialog; dropped when a test ends


def stop_answering() -> None:
    """At the end of a test: a handler left waiting must not answer the next test's dialog."""
    for dialogs in _WAITING:
        dialogs.handlers.clear()
    _WAITING.clear()


def answer_next(*handlers: Callable[[QWidget], None]) -> Dialogs:
    """Answer the next modal dialogs, one handler each, and note their titles and texts."""
    dialogs = Dialogs([], [], list(handlers))
    _WAITING.append(dialogs)
    answered: list[QWidget] = []

    def poll() -> None:
        if not dialogs.handlers:
            return
        dialog = QApplication.activeModalWidget()
        if dialog is not None and not any(dialog is d for d in answered):
            answered.append(dialog)
            dialogs.titles.append(dialog.windowTitle())
            if isinstance(dialog, QMessageBox):
                texts = [dialog.text(), dialog.informativeText()]
            else:
                texts = [label.text() for label in dialog.findChildren(QLabel)]
            dialogs.texts.append("\n".join(t for t in texts if t))
            dialogs.handlers.pop(0)(dialog)
        if dialogs.handlers:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return dialogs


def choose_file(path: Path) -> Callable[[QWidget], None]:
    def handle(dialog: QWidget) -> None:
        assert isinstance(dialog, QFileDialog), dialog.windowTitle()
        dialog.findChild(QLineEdit, "fileNameEdit").setText(str(path))
        dialog.accept()

    return handle


def close(dialog: QWidget) -> None:
    dialog.close()


def log_in(
    *,
    ssh: str | None = None,
    sudo: str | None = None,
    proxy: str | None = None,
    same: bool = True,
    cancel: bool = False,
    check: Callable[[QWidget], None] | None = None,
) -> Callable[[QWidget], None]:
    """Fill the password dialog as a person does: type into each field it asks, untick "Same as the SSH
    password" unless `same`, the proxy password twice, then click OK (or Cancel). `check` looks first."""

    def handle(dialog: QWidget) -> None:
        assert isinstance(dialog, LoginDialog), dialog.windowTitle()
        if check is not None:
            check(dialog)
        for kind, text in ((Kind.SSH, ssh), (Kind.SUDO, sudo), (Kind.PROXY, proxy)):
            if text is None:
                continue
            if kind is Kind.SUDO and dialog.same is not None and dialog.same.isChecked() != same:
                dialog.same.click()
            QTest.keyClicks(dialog.edits[kind], text)
            if kind is Kind.PROXY:
                assert dialog.again is not None
                QTest.keyClicks(dialog.again, text)
        ok = dialog.buttons.button(
            QDialogButtonBox.StandardButton.Cancel if cancel else QDialogButtonBox.StandardButton.Ok
        )
        assert ok.isEnabled(), "the dialog does not take these answers"
        QTest.mouseClick(ok, Qt.MouseButton.LeftButton)

    return handle


def press(button: QMessageBox.StandardButton) -> Callable[[QWidget], None]:
    def handle(dialog: QWidget) -> None:
        assert isinstance(dialog, QMessageBox), dialog.windowTitle()
        dialog.button(button).click()

    return handle


def trigger(window: QWidget, text: str) -> None:
    """Press the menu entry a person reads as `text` (without its & mnemonic), as a click on it does."""
    actions = [a for a in window.findChildren(QAction) if a.text().replace("&", "") == text]
    assert actions, f"no menu entry {text!r}"
    actions[0].trigger()


# The Proxy menu's entries, by the server operation each starts.
PROXY_MENU = {
    "test": "Test connection",
    "plan": "Preview changes",
    "apply": "Apply",
    "rollback": "Rollback…",
    "remove": "Remove from server…",
    "status": "Server status",
    "check": "Check the way out to Azure",
}
