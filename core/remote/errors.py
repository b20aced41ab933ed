"""Typed failures from the server side, each with a message a commissioning engineer can act on."""

from __future__ import annotations

from core.secret_kind import NOUN, Kind


class RemoteError(Exception):
    """Base class: anything that went wrong talking to, or changing, the proxy server."""

    title = "The server run stopped"  # the headline a front end shows above the message


class ConnectFailed(RemoteError):
    title = "The server could not be reached"


class NotSsh(ConnectFailed):
    """Something answers on the port, but it is not an SSH server."""

    title = "No SSH server on that port"


class ConnectionLost(RemoteError):
    """The server was reached, then the connection ended: during the handshake or a command."""

    title = "The connection to the server was lost"


class KeyFileMissing(RemoteError):
    title = "The SSH key file is missing"


class AuthenticationFailed(RemoteError):
    title = "The server refused the login"


class PasswordRefused(AuthenticationFailed):
    title = "The server refused the SSH password"


class SecretNeeded(RemoteError):
    """A secret is required and was not given."""

    title = "A password is needed"

    def __init__(self, kind: Kind, reason: str) -> None:
        self.kind = kind
        super().__init__(f"{reason}: a {NOUN[kind]} is needed")


class SudoFailed(RemoteError):
    title = "The login cannot act as root"


class SudoPasswordRefused(SudoFailed):
    title = "sudo refused the password"


class HostKeyUnknown(RemoteError):
    """First contact: show the fingerprint, and pin it only when the user compared and accepted it."""

    title = "Unknown server"

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str) -> None:
        self.host, self.port, self.key_type, self.fingerprint = host, port, key_type, fingerprint
        super().__init__(
            f"{host}:{port} is not a known server. Its {key_type} host key has the fingerprint "
            f"{fingerprint}. Compare it with `ssh-keygen -lf` on the server, then accept it "
            f"(--accept-host-key {fingerprint})"
        )


class HostKeyChanged(RemoteError):
    """The server shows another key than the pinned one: possibly an attack. Never replaced here."""

    title = "The server's host key has changed"

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str, expected: str) -> None:
        self.host, self.port, self.key_type, self.fingerprint = host, port, key_type, fingerprint
        self.expected = expected
        super().__init__(
            f"WARNING: THE HOST KEY OF {host}:{port} HAS CHANGED. It shows {key_type} {fingerprint}, "
            f"but {expected} was pinned. Someone may be intercepting the connection. Nothing was sent. "
            "If the server was really reinstalled, remove its line from the known_hosts file by hand."
        )


class BadServerAnswer(RemoteError):
    """The server printed something the app cannot read (not Debian's tools, or output cut short)."""

    title = "The server's answer could not be read"


class KnownHostsDamaged(RemoteError):
    """sensorproxy's own known_hosts file cannot be read; nothing is sent until it is fixed."""

    title = "The known_hosts file is damaged"


class CommandFailed(RemoteError):
    title = "A command on the server failed"

    def __init__(self, what: str, returncode: int, output: str) -> None:
        self.what, self.returncode, self.output = what, returncode, output.strip()
        detail = f": {self.output[-2000:]}" if self.output else ""
        super().__init__(f"{what} failed (exit {returncode}){detail}")


class RepositoryUnreachable(RemoteError):
    """Squid is not installed and apt on the server reaches no repository that has it."""

    title = "The server cannot install Squid"


class UnsupportedServer(RemoteError):
    title = "This server is not supported"


class ServerLocked(RemoteError):
    title = "The server is busy"


class ValidationFailed(RemoteError):
    """Squid refused the new configuration; the previous files were put back."""

    title = "Squid refused the new configuration"

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {e}" for e in errors) or "  (no error lines)"
        super().__init__(f"squid -k parse refused the new configuration; the previous files are back:\n{lines}")


class VerifyFailed(RemoteError):
    title = "Squid did not come up with the new configuration"


class Cancelled(RemoteError):
    title = "Cancelled"
