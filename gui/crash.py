"""An unexpected error in the window: written to the log with its traceback, and said in a dialog with
the details one click away ("Copy details", for a bug report) and where the log is."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

import PySide6
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from core import __version__, logs

TITLE = "sensorproxy hit an unexpected error"


def report(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook while the window runs."""
    logs.log.critical("unexpected error", exc_info=(kind, exc, tb))
    details = "".join(traceback.format_exception(kind, exc, tb)) + (
        f"\nsensorproxy {__version__}, Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}\n"
    )
    box = QMessageBox(QMessageBox.Icon.Critical, TITLE, f"<b>{TITLE}</b>", parent=QApplication.activeWindow())
    box.setInformativeText(
        f"{kind.__name__}: {exc}\n\nIt is written to the log, {logs.log_file()}. "
        "Save your project if it has changes, and send the details with a bug report."
    )
    box.setDetailedText(details)
    copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is copy:
        QGuiApplication.clipboard().setText(details)
