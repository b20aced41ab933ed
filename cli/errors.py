"""Failures of the command line itself, and how any expected failure is told in one line."""

from __future__ import annotations

import sys


class CliError(Exception):
    """A failure the user can act on (exit 1)."""


class UsageError(CliError):
    """The command line itself is wrong or incomplete (exit 2)."""


# The errors a command reports in one line, without a traceback, by the module that defines them. A module
# that was never imported cannot have raised its error, so looking them up imports nothing.
ONE_LINE_ERRORS = {
    "cli.errors": ("CliError",),
    "cli.edit": ("EditError",),
    "core.sheet": ("SheetError",),
    "core.model": ("InvalidProject",),
    "core.projectfile": ("ProjectFileError",),
    "core.csvio": ("CsvImportError",),
    "core.squid": ("SquidConfigError",),
    "core.credentials": ("MissingSecret", "NoSecureStorage"),
    "core.bundle": ("BundleError",),
    "core.ansible_export": ("ExportError",),
}


def one_line(exc: BaseException) -> str | None:
    """The line that tells an expected failure (a server's, with what failed first), or None for a bug."""
    remote = sys.modules.get("core.remote.errors")
    if remote is not None and isinstance(exc, remote.RemoteError):
        return f"{exc.title}: {exc}"
    expected = any(
        isinstance(exc, getattr(sys.modules[module], name))
        for module, names in ONE_LINE_ERRORS.items()
        if module in sys.modules
        for name in names
    )
    if expected:
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}"
    return None
