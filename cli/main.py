"""The `sensorproxy` command: the same core calls the desktop window uses.

Only the command that runs is imported (see cli/parser.py): `validate` never loads SSH, the keyring or
bcrypt, and `--version` loads nothing but the parser."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from cli.errors import UsageError, one_line
from cli.parser import build_parser

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
    projects = getattr(args, "project", None) or []
    named = " ".join(map(str, projects if isinstance(projects, list) else [projects]))
    logs.log.info("sensorproxy %s %s", args.command, named)
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
        line = one_line(exc)
        if line is None:
            raise
        logs.log.warning("%s", line)
        print(f"sensorproxy: {line}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
