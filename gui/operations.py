"""The Proxy menu's server operations: one typed name each, and one table of what each does. Kept apart
from the code that runs them, so the window can name them without loading SSH at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Op(StrEnum):
    TEST = "test"
    PLAN = "plan"
    STATUS = "status"
    APPLY = "apply"
    ROLLBACK = "rollback"
    REMOVE = "remove"
    CHECK = "check"


@dataclass(frozen=True)
class Operation:
    op: Op
    title: str  # "{host}" is filled in
    changes: bool  # changes the server: its steps show in the Apply panel, and Cancel cannot cut it off
    confirm: str = ""  # asked first, "{host}" filled in


OPERATIONS = {
    o.op: o
    for o in (
        Operation(Op.TEST, "Testing the connection to {host}", False),
        Operation(Op.PLAN, "Comparing with {host}", False),
        Operation(Op.STATUS, "Reading the status of {host}", False),
        Operation(Op.CHECK, "Checking the way out to Azure from {host}", False),
        Operation(Op.APPLY, "Applying the project to {host}", True),
        Operation(
            Op.ROLLBACK,
            "Rolling back {host}",
            True,
            "Put back the Squid files from before the last change on {host}?",
        ),
        Operation(
            Op.REMOVE,
            "Removing sensorproxy's rules from {host}",
            True,
            "Remove sensorproxy's rules from {host}? The sensors will no longer be let through; Squid keeps running.",
        ),
    )
}
