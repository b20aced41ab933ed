"""Secrets: the OS keyring first, then (for automation) environment variables, then a prompt.

Keyring entries live under the service `sensorproxy`, keyed by purpose and identity. When no secure
backend exists, nothing falls back to a file: the caller is told once, and secrets are asked for and
kept in memory for this run only.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from core.model import Project

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "sensorproxy"


class Kind(StrEnum):
    SSH = "ssh"  # the SSH login's password
    SUDO = "sudo"
    PASSPHRASE = "passphrase"  # noqa: S105 - a kind of secret, not one
    PROXY = "proxy"  # the proxy user the sensors log in with
    PARENT = "parent"  # the upstream parent proxy's login


ENV = {
    Kind.SSH: "SENSORPROXY_SSH_PASSWORD",
    Kind.SUDO: "SENSORPROXY_SUDO_PASSWORD",
    Kind.PASSPHRASE: "SENSORPROXY_KEY_PASSPHRASE",
    Kind.PROXY: "SENSORPROXY_PROXY_PASSWORD",
    Kind.PARENT: "SENSORPROXY_PARENT_PASSWORD",
}
# SecretNeeded.kind (what the server run found missing) to the kind of secret to look up or ask for.
NEEDED = {
    "password": Kind.SSH,
    "key_passphrase": Kind.PASSPHRASE,
    "sudo_password": Kind.SUDO,
    "proxy_password": Kind.PROXY,
    "parent_password": Kind.PARENT,
}
NO_SECURE_STORE = "No secure password store on this computer (no Secret Service running): passwords are asked each time"


def describe(kind: Kind, project: Project) -> str:
    """What a prompt asks for, in words: which secret, for which login, server or proxy user."""
    ssh, proxy = project.ssh, project.proxy
    server = ssh.host if ssh.port == 22 else f"{ssh.host} (SSH port {ssh.port})"
    if kind is Kind.SSH:
        return f"SSH password of {ssh.user} on {server}"
    if kind is Kind.SUDO:
        return f"sudo password of {ssh.user} on {server}"
    if kind is Kind.PASSPHRASE:
        return f"Passphrase of the SSH key {ssh.key_path}"
    if kind is Kind.PROXY:
        return f"Password of proxy user {proxy.auth_user} (site {project.site})"
    if (parent := proxy.parent) is None:
        return "Password of the parent proxy"
    return f"Password of parent proxy user {parent.user} at {parent.host}:{parent.port}"


def identity(kind: Kind, project: Project) -> str:
    """The keyring user name of a secret: what it is for, and whose it is."""
    ssh = project.ssh
    if kind in (Kind.SSH, Kind.SUDO):
        return f"{kind}:{ssh.user}@{ssh.host}:{ssh.port}"
    if kind is Kind.PASSPHRASE:
        return f"{kind}:{ssh.key_path}"
    if kind is Kind.PROXY:
        return f"{kind}:{project.site}:{project.proxy.auth_user}"
    parent = project.proxy.parent
    return f"{kind}:{parent.user}@{parent.host}:{parent.port}" if parent else f"{kind}:"


class NoSecureStorage(RuntimeError):
    pass


def _keyring() -> ModuleType:
    """keyring, imported on first use: loading it and finding its backend takes about 0.1 s, which the
    window's start-up should not wait for."""
    import keyring
    import keyring.errors

    return keyring


def backend() -> KeyringBackend:
    kr: KeyringBackend = _keyring().get_keyring()
    return kr


def backend_name() -> str:
    """The keyring backend for the About box and bug reports; `store_description` is for everyone else."""
    kr = backend()
    return f"{type(kr).__module__}.{type(kr).__name__}"


# keyring's backends by module, in the words their users know them by
_STORE_NAMES = {
    "keyring.backends.SecretService": "the desktop keyring (Secret Service: GNOME Keyring or KWallet)",
    "keyring.backends.libsecret": "the desktop keyring (Secret Service: GNOME Keyring or KWallet)",
    "keyring.backends.kwallet": "KDE Wallet",
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.macOS": "the macOS Keychain",
}


def store_description() -> str:
    """Where remembered passwords go, in words (never a class name)."""
    if not secure_backend_available():
        return NO_SECURE_STORE
    return _STORE_NAMES.get(type(backend()).__module__, "the system keyring")


def secure_backend_available() -> bool:
    kr = backend()
    return not type(kr).__module__.startswith(("keyring.backends.fail", "keyring.backends.null"))


def get(kind: Kind, project: Project) -> str | None:
    if not secure_backend_available():
        return None
    keyring = _keyring()
    try:
        secret: str | None = keyring.get_password(SERVICE, identity(kind, project))
        return secret
    except keyring.errors.KeyringError:
        return None  # locked or unreachable: ask instead


def store(kind: Kind, project: Project, secret: str) -> None:
    if not secure_backend_available():
        raise NoSecureStorage(f"{NO_SECURE_STORE[0].lower()}{NO_SECURE_STORE[1:]}; nothing was stored")
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, identity(kind, project), secret)
    except keyring.errors.KeyringError as exc:
        raise NoSecureStorage(f"the keyring refused to store the secret ({type(exc).__name__})") from None


def forget(kind: Kind, project: Project) -> bool:
    """True when something was deleted."""
    if not secure_backend_available():
        return False
    keyring = _keyring()
    try:
        keyring.delete_password(SERVICE, identity(kind, project))
    except keyring.errors.PasswordDeleteError:
        return False
    return True


@dataclass
class Source:
    """Finds a secret for a run: keyring, then environment, then prompt. Remembers answers for the run."""

    project: Project
    path: Path | None = None  # the project file, named in "store it with …" hints
    interactive: bool = field(default_factory=lambda: sys.stdin.isatty())
    prompt: Callable[[str], str] = getpass.getpass
    cache: dict[Kind, str] = field(default_factory=dict)

    def find_stored(self, kind: Kind) -> str | None:
        """From this run, the keyring or the environment; never asks."""
        if kind not in self.cache and (secret := get(kind, self.project) or os.environ.get(ENV[kind])):
            self.cache[kind] = secret
        return self.cache.get(kind)

    def find(self, kind: Kind) -> str | None:
        secret = self.find_stored(kind)
        if secret is None and self.interactive:
            secret = self.prompt(f"{describe(kind, self.project)}: ") or None
        if secret is not None:
            self.cache[kind] = secret
        return secret

    def require(self, kind: Kind) -> str:
        secret = self.find(kind)
        if secret is None:
            raise MissingSecret(kind, self.project, self.path, asked=self.interactive)
        return secret


class MissingSecret(RuntimeError):
    def __init__(self, kind: Kind, project: Project, path: Path | None = None, *, asked: bool = False) -> None:
        self.kind = kind
        what = describe(kind, project)
        what = what if what[:2].isupper() else what[0].lower() + what[1:]  # "SSH …" stays, "Password …" not
        super().__init__(
            f"the {what} is needed{'' if asked else ' and there is no terminal to ask on'}: store it with "
            f"`sensorproxy credentials set {path or 'PROJECT'} {kind}`, or set {ENV[kind]}"
        )
