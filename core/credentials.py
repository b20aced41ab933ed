"""Secrets: the OS keyring first, then (for automation) environment variables, then the front end asks.

Keyring entries live under the service `sensorproxy`, keyed by purpose and identity. When no secure
backend exists, nothing falls back to a file: the caller is told once, and secrets are asked for and
kept in memory for this run only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from core import keyfile
from core.logs import log
from core.model import AuthMethod, Project
from core.remote.errors import AuthenticationFailed, PasswordRefused, SecretNeeded, SudoPasswordRefused
from core.secret_kind import Kind

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "sensorproxy"


ENV = {
    Kind.SSH: "SENSORPROXY_SSH_PASSWORD",
    Kind.SUDO: "SENSORPROXY_SUDO_PASSWORD",
    Kind.PASSPHRASE: "SENSORPROXY_KEY_PASSPHRASE",
    Kind.PROXY: "SENSORPROXY_PROXY_PASSWORD",
    Kind.PARENT: "SENSORPROXY_PARENT_PASSWORD",
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


class Declined(Exception):
    """The person asked for a secret chose not to give it (closed the dialog)."""


@dataclass(frozen=True)
class Answer:
    secrets: dict[Kind, str]  # what was typed; an empty answer counts as not given
    remember: bool = False  # also store them in the keyring


# What a front end supplies: {kind: what it is, in words}, and why it is asked again ("" the first time)
# -> the answers, or None when the person declined.
Ask = Callable[[dict[Kind, str], str], Answer | None]


class Secrets:
    """The one way both front ends find a secret: this session's answers, then the keyring (unless the
    server refused what it holds), then the environment, then the front end's `ask` (none: nobody to ask).
    Answers are kept in memory for the session; a refused secret is asked for again."""

    def __init__(self, ask: Ask | None = None, *, path: Path | None = None, warn: Callable[[str], None] = log.warning):
        self._ask = ask
        self.path = path  # the project file, named in "store it with …" hints
        self.warn = warn  # a notice for the person, such as a secret that could not be remembered
        self.cache: dict[str, str] = {}  # identity -> secret
        self.distrust: set[str] = set()  # identities whose stored secret the server refused

    def known(self, kind: Kind, project: Project) -> str | None:
        """This session's answer, else the keyring's or the environment's; never asks."""
        ident = identity(kind, project)
        if ident in self.cache or ident in self.distrust:
            return self.cache.get(ident)
        if secret := get(kind, project) or os.environ.get(ENV[kind]):
            self.cache[ident] = secret
        return secret or None

    def need(self, project: Project, kinds: Iterable[Kind], refused: str = "") -> None:
        """Makes every secret of `kinds` known, asking for the unknown ones (all of them after a refusal)
        at once. Raises MissingSecret when nobody can be asked or nothing was typed, Declined when the
        person declined."""
        missing = [k for k in dict.fromkeys(kinds) if refused or self.known(k, project) is None]
        if not missing:
            return
        if self._ask is None:
            raise MissingSecret(missing[0], project, self.path)
        answer = self._ask({kind: describe(kind, project) for kind in missing}, refused)
        if answer is None:
            raise Declined
        for kind, secret in answer.secrets.items():
            if secret:
                self.keep(kind, project, secret, remember=answer.remember)
        if unanswered := [k for k in missing if not answer.secrets.get(k)]:
            raise MissingSecret(unanswered[0], project, self.path, asked=True)

    def secret(self, kind: Kind, project: Project) -> str:
        self.need(project, [kind])
        secret = self.known(kind, project)
        assert secret is not None
        return secret

    def keep(self, kind: Kind, project: Project, secret: str, *, remember: bool = False) -> None:
        ident = identity(kind, project)
        self.cache[ident] = secret
        self.distrust.discard(ident)
        if remember:
            try:
                store(kind, project, secret)
            except NoSecureStorage as exc:
                self.warn(f"Not remembered: {exc}")

    def forget(self, kind: Kind, project: Project) -> bool:
        """Out of the keyring and this session; True when the keyring held it."""
        self.cache.pop(identity(kind, project), None)
        return forget(kind, project)

    def refused(self, kinds: Iterable[Kind], project: Project) -> None:
        """Secrets the server refused are asked for again, not taken from the keyring or environment."""
        for kind in kinds:
            ident = identity(kind, project)
            self.cache.pop(ident, None)
            self.distrust.add(ident)

    def login(self, project: Project) -> dict[Kind, str]:
        """The login's secrets known now; the rest is asked for once the server has answered as the SSH
        server it should be (SecretNeeded ends that attempt, and `recover` asks)."""
        ssh = project.ssh
        kinds = [Kind.SSH] if ssh.auth is AuthMethod.PASSWORD else []
        kinds += [Kind.PASSPHRASE] if ssh.key_path and keyfile.needs_passphrase(ssh.key_path) else []
        kinds += [Kind.SUDO] if ssh.sudo else []
        return {kind: secret for kind in kinds if (secret := self.known(kind, project))}

    def passwords(self, project: Project, *, ask: bool = True) -> dict[Kind, str]:
        """The proxy user's and the parent proxy's passwords the project needs; `ask` for missing ones."""
        kinds = proxy_kinds(project)
        if ask:
            self.need(project, kinds)
        return {kind: secret for kind in kinds if (secret := self.known(kind, project))}

    def recover(self, exc: Exception, project: Project, also: Iterable[Kind] = ()) -> bool:
        """After a run stopped for want of a secret, or because the server refused one: ask for it, with
        `also` (what the rest of the run will need and is not known yet). True: run again with them.
        False: the error stands (not about a secret, or nobody to ask again)."""
        ssh = project.ssh
        sudo = [Kind.SUDO] if ssh.sudo else []
        if isinstance(exc, SecretNeeded):
            if self.known(exc.kind, project) is not None:
                return False  # it was given, and still needed: asking again would loop
            self.need(project, [exc.kind, *(sudo if exc.kind is Kind.SSH else []), *also])
            return True
        if isinstance(exc, PasswordRefused):
            kinds, why = [Kind.SSH, *sudo], f"{ssh.host} refused that SSH password for {ssh.user} — try again"
        elif isinstance(exc, SudoPasswordRefused):
            kinds, why = [Kind.SUDO], f"sudo refused that password for {ssh.user} — try again"
        else:
            if isinstance(exc, AuthenticationFailed):
                self.refused([Kind.PASSPHRASE], project)  # a wrong passphrase reads as a refused key
            return False
        self.refused(kinds[:1], project)
        if self._ask is None:
            return False
        self.need(project, kinds, refused=why)
        return True


def proxy_kinds(project: Project) -> list[Kind]:
    """The proxy-side passwords `project` needs: its proxy user's, its parent proxy's."""
    proxy = project.proxy
    kinds = [Kind.PROXY] if proxy.auth_enabled else []
    return kinds + ([Kind.PARENT] if proxy.parent and proxy.parent.user else [])


class MissingSecret(RuntimeError):
    def __init__(self, kind: Kind, project: Project, path: Path | None = None, *, asked: bool = False) -> None:
        self.kind = kind
        what = describe(kind, project)
        what = what if what[:2].isupper() else what[0].lower() + what[1:]  # "SSH …" stays, "Password …" not
        super().__init__(
            f"the {what} is needed{'' if asked else ' and there is no terminal to ask on'}: store it with "
            f"`sensorproxy credentials set {path or 'PROJECT'} {kind}`, or set {ENV[kind]}"
        )
