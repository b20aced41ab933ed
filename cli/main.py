"""The `sensorproxy` command: the same core calls the desktop window uses.

Only the command that runs is imported (see cli/parser.py): `validate` never loads SSH, the keyring or
bcrypt, and `--version` loads nothing but the parser."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from cli.errors import UsageError
from cli.parser import build_parser

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

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
}


def _one_line(exc: Exception) -> bool:
    return any(
        isinstance(exc, getattr(sys.modules[module], name))
        for module, names in ONE_LINE_ERRORS.items()
        if module in sys.modules
        for name in names
    )


def _command(name: str) -> Callable[..., int]:
    module, function = name.split(":")
    command: Callable[..., int] = getattr(importlib.import_module(f"cli.{module}"), function)
    return command


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from core import logs

    try:
        logs.start(verbose=args.verbose)
    except OSError as exc:  # no log is no reason not to work
        print(f"sensorproxy: no log: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
    logs.log.info("sensorproxy %s %s", args.command, getattr(args, "project", "") or "")
    try:
        code: int = _command(args.func)(args)
        return code
    except UsageError as exc:
        print(f"sensorproxy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sensorproxy: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from core.remote.errors import RemoteError

        if isinstance(exc, RemoteError):
            logs.log.warning("%s: %s", exc.title, exc)
            print(f"sensorproxy: {exc.title}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        if _one_line(exc):
            logs.log.warning("%s", exc)
            print(f"sensorproxy: {exc}", file=sys.stderr)
            return EXIT_FAILED
        if isinstance(exc, OSError):
            print(f"sensorproxy: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
        raise


if __name__ == "__main__":
    sys.exit(main())
