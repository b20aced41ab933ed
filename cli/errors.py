"""Failures of the command line itself, printed without a traceback."""


class CliError(Exception):
    """A failure the user can act on (exit 1)."""


class UsageError(CliError):
    """The command line itself is wrong or incomplete (exit 2)."""
