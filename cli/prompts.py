"""Asking on the terminal: yes/no before a change, and the secrets a command needs (keyring, environment,
then a prompt when there is a terminal)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from cli.errors import UsageError
from core import credentials
from core.secret_kind import Kind


def ask(question: str) -> bool:
    return sys.stdin.isatty() and input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}


def can_confirm(args: argparse.Namespace, question: str) -> None:
    """Before connecting: with neither --yes nor a terminal to ask on, the command line is incomplete
    (exit 2), rather than a silent no after the connection."""
    if not args.yes and not sys.stdin.isatty():
        raise UsageError(
            f"{question.rstrip('?')}: this changes the server, and there is no terminal to ask on: pass --yes"
        )


def confirm(args: argparse.Namespace, question: str) -> bool:
    """--yes, or a yes typed on the terminal."""
    can_confirm(args, question)
    return args.yes or ask(question)


def secrets(path: Path) -> credentials.Secrets:
    """Keyring, environment, then the terminal (when there is one) for every secret of this command."""
    return credentials.Secrets(_prompt if sys.stdin.isatty() else None, path=path, warn=warn)


def _prompt(asks: dict[Kind, str], refused: str) -> credentials.Answer:
    if refused:
        warn(refused)
    return credentials.Answer({kind: getpass.getpass(f"{what}: ") for kind, what in asks.items()})


def warn(text: str) -> None:
    print(f"sensorproxy: {text}", file=sys.stderr)
