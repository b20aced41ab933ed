"""An unexpected error in the window is said in a dialog, written to the log with its traceback, and its
details can be copied for a bug report."""

from __future__ import annotations

import sys

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from core import logs
from gui import crash
from tests.qt_helpers import answer_next


def copy_details(dialog) -> None:
    assert isinstance(dialog, QMessageBox)
    [button] = [b for b in dialog.buttons() if b.text() == "Copy details"]
    button.click()


def test_an_unexpected_error_is_said_logged_and_its_details_copied(qtbot, private_log):
    logs.start()
    try:
        {}["surprise"]
    except KeyError:
        kind, exc, tb = sys.exc_info()
    seen = answer_next(copy_details)
    crash.report(kind, exc, tb)  # as Python calls sys.excepthook while the window runs
    assert seen.titles == [crash.TITLE]
    assert "KeyError: 'surprise'" in seen.texts[0]
    assert str(private_log) in seen.texts[0]
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Traceback (most recent call last):")
    assert "KeyError: 'surprise'" in copied
    log = private_log.read_text()
    assert "CRITICAL unexpected error" in log
    assert "KeyError: 'surprise'" in log
