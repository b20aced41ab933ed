"""Host-key trust: the app's own known_hosts (written) plus the user's ~/.ssh/known_hosts (read only).

An unknown server raises HostKeyUnknown with its fingerprint; it is pinned only when the caller passes
that exact fingerprint back. A server showing a different key than the pinned one, of any type, raises
HostKeyChanged, and nothing here ever replaces a pinned key.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

import paramiko

from core import atomicfile
from core.model import SshTarget
from core.paths import config_dir
from core.remote.errors import HostKeyChanged, HostKeyUnknown, KnownHostsDamaged

# Pinning reads, adds to and rewrites the file: several sites connecting at once (`--parallel`) would
# otherwise each write back what they read, and all but one new key would be lost.
_PINNING = threading.Lock()


@dataclass(frozen=True)
class KnownHosts:
    app_file: Path
    user_file: Path | None = None

    @classmethod
    def default(cls) -> KnownHosts:
        return cls(config_dir() / "known_hosts", Path.home() / ".ssh" / "known_hosts")

    def _load(self) -> tuple[paramiko.HostKeys, paramiko.HostKeys]:
        app, user = paramiko.HostKeys(), paramiko.HostKeys()
        if self.app_file.exists():
            try:
                app.load(str(self.app_file))
            except (OSError, UnicodeDecodeError, paramiko.SSHException, paramiko.hostkeys.InvalidHostKey) as exc:
                line = getattr(exc, "line", "")
                where = f" at the line {line.strip()[:80]!r}" if line else ""
                raise KnownHostsDamaged(
                    f"{self.app_file} is damaged{where}; fix or delete that line (the server will then be "
                    "asked about as new). Nothing was sent."
                ) from None
        if self.user_file and self.user_file.exists():
            # An unreadable personal file is not ours to judge; the app's own file still protects.
            with contextlib.suppress(OSError, paramiko.SSHException, ValueError, paramiko.hostkeys.InvalidHostKey):
                user.load(str(self.user_file))
        return app, user

    def install(self, client: paramiko.SSHClient, target: SshTarget, accept: str | None) -> None:
        app, user = self._load()
        for hostkeys, into in ((user, client.get_host_keys()), (app, client.get_host_keys())):
            for name in hostkeys:
                for key_type, key in hostkeys[name].items():
                    into.add(name, key_type, key)
        client.set_missing_host_key_policy(_Policy(self, target, accept))

    def pin(self, name: str, key: paramiko.PKey) -> None:
        with _PINNING:
            app, _ = self._load()
            app.add(name, key.get_name(), key)
            self.app_file.parent.mkdir(parents=True, exist_ok=True)
            lines = [f"{n} {t} {k.get_base64()}\n" for n in app for t, k in app[n].items()]
            atomicfile.write_text(self.app_file, "".join(lines))


class _Policy(paramiko.MissingHostKeyPolicy):
    def __init__(self, known: KnownHosts, target: SshTarget, accept: str | None) -> None:
        self.known, self.target, self.accept = known, target, accept

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        pinned = client.get_host_keys().lookup(hostname)
        if pinned:
            # paramiko only compares keys of the same type; a key of another type is a change too.
            expected = next(iter(pinned.values())).fingerprint
            raise HostKeyChanged(self.target.host, self.target.port, key.get_name(), key.fingerprint, expected)
        if self.accept is None or self.accept != key.fingerprint:
            raise HostKeyUnknown(self.target.host, self.target.port, key.get_name(), key.fingerprint)
        self.known.pin(hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)
