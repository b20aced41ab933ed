"""What a server run reports while it works: its steps, their states, and log lines. Kept apart from
the SSH code so the window can show them without loading paramiko at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

STEPS = (
    ("connect", "Connect"),
    ("preflight", "Check the server"),
    ("install", "Install Squid"),
    ("backup", "Back up"),
    ("write", "Write the configuration"),
    ("validate", "Validate (squid -k parse)"),
    ("enable", "Enable at boot"),
    ("activate", "Start or reload Squid"),
    ("verify", "Verify"),
)
TITLES = dict(STEPS)


class Status(StrEnum):
    RUNNING = "running"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled back"


@dataclass(frozen=True)
class StepEvent:
    step: str
    status: Status
    message: str = ""
    diff: str = ""


@dataclass(frozen=True)
class LogEvent:
    step: str
    line: str


@dataclass(frozen=True)
class CancelNote:
    """What pressing Cancel does from now on: "" cancels at once; otherwise the sentence to show, for a
    part of the run that is not stopped half-way (an install, the change itself)."""

    text: str


NOT_CANCELLED = "Too late to cancel: the server is already changing; it will finish or roll back."
AFTER_INSTALL = (
    "Cancelling after the install: apt is not stopped half-way, so Squid will be installed; "
    "the configuration will not change."
)

Event = StepEvent | LogEvent | CancelNote
Emit = Callable[[Event], None]
