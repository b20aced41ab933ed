"""A record of what happened: sensorproxy's log, rotating in the user's log directory.

Server runs write their steps and the server's answers to it, and the front ends their errors; with a
traceback when something unexpected happened. Never a secret: secrets travel on stdin and are in no
step, answer or error (tests search the log for every secret they used).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

from core.remote.events import Emit, Event, LogEvent, StepEvent

log = logging.getLogger("sensorproxy")
MAX_BYTES = 1_000_000
KEEP = 3  # older logs kept beside the current one


def log_file() -> Path:
    """Where the log is; SENSORPROXY_LOG_DIR overrides the user's log directory (portable installs, tests)."""
    override = os.environ.get("SENSORPROXY_LOG_DIR")
    folder = Path(override) if override else Path(platformdirs.user_log_dir("sensorproxy", appauthor=False))
    return folder / "sensorproxy.log"


def start(*, verbose: bool = False) -> Path:
    """Send sensorproxy's records to its log file, and with `verbose` to stderr as well."""
    from logging.handlers import RotatingFileHandler  # only the front ends' start-up needs it

    path = log_file()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in log.handlers):
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=KEEP, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    if verbose and not any(type(h) is logging.StreamHandler for h in log.handlers):
        log.addHandler(logging.StreamHandler())  # stderr
    log.setLevel(logging.INFO)
    return path


def logged(emit: Emit) -> Emit:
    """`emit` that also writes each event of a server run to the log."""

    def both(event: Event) -> None:
        if isinstance(event, LogEvent):
            log.info("[%s] %s", event.step, event.line)
        elif isinstance(event, StepEvent):
            log.info("[%s] %s%s", event.step, event.status, f": {event.message}" if event.message else "")
        emit(event)

    return both
