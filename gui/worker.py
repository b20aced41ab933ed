"""Server work off the GUI thread: a QThread that runs one callable and reports through signals.

The callable gets `emit` (core's step and log events, delivered to the GUI thread in order) and
`cancelled` (polled by core between steps)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from core.remote.events import Emit

Work = Callable[[Emit, Callable[[], bool]], Any]


class Job(QThread):
    reported = Signal(object)  # core's events; `event` would hide QThread.event, Qt's event handler
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            result = self._work(self.reported.emit, self._cancel.is_set)
        except Exception as exc:  # reported to the GUI thread, which explains it to the user
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)
