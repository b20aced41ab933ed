"""One SSH connection to the proxy server (paramiko): host-key trust, sudo, commands, atomic writes.

Everything that may hold a secret travels on a command's stdin, never in its argv: the sudo password,
shell scripts, file contents. `commands` records each argv sent, so tests can prove that.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import select
import shlex
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from core.model import AuthMethod, SshTarget, plural
from core.remote.errors import (
    AuthenticationFailed,
    Cancelled,
    CommandFailed,
    ConnectFailed,
    ConnectionLost,
    HostKeyChanged,
    KeyFileMissing,
    NotSsh,
    PasswordRefused,
    RemoteError,
    SecretNeeded,
    SudoFailed,
    SudoPasswordRefused,
)
from core.remote.hostkeys import KnownHosts
from core.secret_kind import Kind

CONNECT_TIMEOUT = 10.0
BANNER_TIMEOUT = 10.0  # a port that accepts TCP but never greets as SSH fails this soon
# paramiko logs a failed handshake with its traceback; with no handler of ours, Python's last-resort
# handler would print it on stderr under the plain sentence we give.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
LineSink = Callable[[str], None]
COMMAND_TIMEOUT = 600.0
# A login without sudo must be root. Each command checks that itself rather than in a command of its own:
# every exec pays the login shell's start-up (a heavy .bashrc is common), so an apply makes one.
NOT_ROOT_EXIT = 97
ROOT_GUARD = f'[ "$(id -u)" = 0 ] || {{ echo @@sp-not-root >&2; exit {NOT_ROOT_EXIT}; }};'


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class SshSession:
    target: SshTarget
    known_hosts: KnownHosts
    secrets: Mapping[Kind, str] = field(default_factory=dict)  # the login's: SSH, PASSPHRASE, SUDO
    accept_fingerprint: str | None = None
    client: paramiko.SSHClient | None = None
    commands: list[str] = field(default_factory=list)
    is_root: bool = False
    sudo_needs_password: bool = False
    _sock: socket.socket | None = field(default=None, repr=False)
    _aborted: threading.Event = field(default_factory=threading.Event, repr=False)

    # --- connection ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Reach the port, speak SSH, check the host key, then log in: a missing password is asked for
        (SecretNeeded) only once the server has shown it is the SSH server it should be."""
        client = paramiko.SSHClient()
        self.known_hosts.install(client, self.target, self.accept_fingerprint)
        auth = self.target.auth
        key_path = str(Path(self.target.key_path).expanduser()) if self.target.key_path else None
        try:
            sock = self._open_socket()
            client.connect(
                self.target.host,
                port=self.target.port,
                username=self.target.user,
                password=self.secrets.get(Kind.SSH) if auth is AuthMethod.PASSWORD else None,
                key_filename=key_path if auth is AuthMethod.KEY else None,
                passphrase=self.secrets.get(Kind.PASSPHRASE),
                allow_agent=auth is AuthMethod.AGENT,
                look_for_keys=False,
                sock=sock,
                timeout=CONNECT_TIMEOUT,
                banner_timeout=BANNER_TIMEOUT,
                auth_timeout=CONNECT_TIMEOUT,
            )
        except BaseException as exc:
            client.close()
            if self._sock is not None:
                self._sock.close()
            if self._aborted.is_set():
                raise Cancelled("cancelled while connecting; nothing was sent to the server") from None
            raise self._connect_error(exc) from None
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(15)
        self.client = client
        if self.target.sudo:
            self._check_privileges()
        else:
            self.is_root = True  # each command proves it (ROOT_GUARD)

    def abort(self) -> None:
        """From another thread: give up a connection still being made (Cancel while connecting)."""
        self._aborted.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _open_socket(self) -> socket.socket:
        """The TCP connection, kept in `_sock` so that `abort` can cut it; its failures in words."""
        where = f"{self.target.host} port {self.target.port}"
        try:
            infos = socket.getaddrinfo(self.target.host, self.target.port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise ConnectFailed(f"the name {self.target.host} does not resolve (check the server's name)") from None
        family, kind, proto, _, address = infos[0]
        self._sock = socket.socket(family, kind, proto)
        # SSH sends small packets (a channel's open, its end of input) that must not wait for the ACK of
        # the one before: with Nagle's algorithm each such wait is the server's delayed ACK, 40 ms.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.settimeout(CONNECT_TIMEOUT)
        try:
            self._sock.connect(address)
        except TimeoutError:
            raise ConnectFailed(f"{where} does not answer (no reply within {CONNECT_TIMEOUT:.0f} s)") from None
        except ConnectionRefusedError:
            raise ConnectFailed(f"nothing listens on {where} (connection refused)") from None
        except OSError as exc:
            raise ConnectFailed(f"cannot reach {where}: {exc.strerror or exc}") from None
        return self._sock

    def _connect_error(self, exc: BaseException) -> BaseException:
        """paramiko's failure as the sentence an engineer can act on (library words after it, if any)."""
        t = self.target
        if isinstance(exc, RemoteError):  # already in words: host-key trust, or the TCP connection
            return exc
        if isinstance(exc, paramiko.BadHostKeyException):
            return HostKeyChanged(t.host, t.port, exc.key.get_name(), exc.key.fingerprint, exc.expected_key.fingerprint)
        if isinstance(exc, paramiko.PasswordRequiredException):
            return SecretNeeded(Kind.PASSPHRASE, f"the key {t.key_path} is encrypted")
        if isinstance(exc, paramiko.AuthenticationException):
            if t.auth is AuthMethod.PASSWORD:
                return PasswordRefused(f"{t.user}@{t.host}:{t.port} refused that password for {t.user}")
            return AuthenticationFailed(f"{t.user}@{t.host}:{t.port} refused the {t.auth.value} login")
        if isinstance(exc, FileNotFoundError):
            return KeyFileMissing(f"the key file {t.key_path} does not exist on this computer")
        if isinstance(exc, paramiko.SSHException) and "protocol banner" in str(exc):
            hung_up = isinstance(exc.__context__, EOFError | ConnectionResetError)
            why = "it hung up without an SSH greeting" if hung_up else f"no SSH greeting within {BANNER_TIMEOUT:.0f} s"
            return NotSsh(f"port {t.port} on {t.host} answers, but not as an SSH server ({why}); check the SSH port")
        if isinstance(exc, paramiko.SSHException) and "No authentication methods" in str(exc):
            return SecretNeeded(Kind.SSH, f"{t.user}@{t.host} logs in with a password")
        if isinstance(exc, OSError | EOFError | paramiko.SSHException):  # EOFError: it hung up mid-handshake
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            reason = reason or "the server closed the connection"
            return ConnectionLost(f"{t.host} port {t.port} closed the SSH connection before logging in ({reason})")
        return exc

    def _check_privileges(self) -> None:
        probe = self._exec(
            "id -u; command -v sudo >/dev/null && sudo -n true 2>/dev/null && echo nopw", b"", timeout=30
        )
        lines = probe.stdout.split()
        self.is_root = bool(lines) and lines[0] == "0"
        if self.is_root:
            return
        self.sudo_needs_password = "nopw" not in lines
        if self.sudo_needs_password:
            if not self.secrets.get(Kind.SUDO):
                raise SecretNeeded(Kind.SUDO, f"sudo on {self.target.host} asks for a password")
            # A wrong password is refused here, quickly, before any real work.
            check = self.run("true", timeout=30)
            if not check.ok:
                raise SudoPasswordRefused(f"sudo on {self.target.host} refused that password for {self.target.user}")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self) -> SshSession:
        self.connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- commands -----------------------------------------------------------------------------

    def _privileged(self, command: str) -> tuple[str, bytes]:
        """The command line (as root) and the stdin prefix sudo needs."""
        if not self.target.sudo:
            return f"{ROOT_GUARD} {command}", b""
        if self.is_root:
            return command, b""
        if self.sudo_needs_password:
            return f"sudo -S -p '' -- {command}", self.secrets[Kind.SUDO].encode() + b"\n"
        return f"sudo -n -- {command}", b""

    def run(
        self,
        command: str,
        stdin: bytes = b"",
        timeout: float = COMMAND_TIMEOUT,
        on_line: LineSink | None = None,
    ) -> Result:
        """Run a fixed command line as root (directly or through sudo)."""
        line, prefix = self._privileged(command)
        return self._exec(line, prefix + stdin, timeout=timeout, on_line=on_line)

    def script(
        self, text: str, *args: str, timeout: float = COMMAND_TIMEOUT, on_line: LineSink | None = None
    ) -> Result:
        """Run a POSIX shell script as root; its text (and anything in it) goes over stdin.
        `on_line` sees each line of its output as it arrives."""
        argv = "sh -s" + ("" if not args else " -- " + shlex.join(args))
        return self.run(argv, text.encode(), timeout=timeout, on_line=on_line)

    def upload(self, files: list[Path]) -> str:
        """Copy local files over SFTP into a new private directory of the login user; returns its path.
        Root scripts copy from there and check each file's checksum before using it."""
        if self.client is None:
            raise ConnectFailed("not connected")
        # On the server: a random name, made with mkdir 0700, which fails rather than reuse anything there.
        remote = f"/tmp/sensorproxy-upload-{secrets.token_hex(8)}"  # noqa: S108
        self.commands.append(f"sftp: put {len(files)} file(s) into {remote}")
        try:
            sftp = self.client.open_sftp()
            try:
                sftp.mkdir(remote, mode=0o700)
                for f in files:
                    sftp.put(str(f), f"{remote}/{f.name}")
            finally:
                sftp.close()
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise CommandFailed(f"uploading {plural(len(files), 'file')} to {self.target.host}", -1, str(exc)) from None
        return remote

    def check(self, result: Result, what: str) -> Result:
        if not result.ok:
            raise CommandFailed(what, result.returncode, result.stderr or result.stdout)
        return result

    def _exec(self, command: str, stdin: bytes, *, timeout: float, on_line: LineSink | None = None) -> Result:
        if self.client is None:
            raise ConnectFailed("not connected")
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise ConnectionLost(f"the SSH connection to {self.target.host} was lost")
        self.commands.append(command)
        try:
            chan = transport.open_session(timeout=CONNECT_TIMEOUT)
            chan.exec_command(command)  # no pty: a pty would echo the sudo password back
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"the SSH connection to {self.target.host} failed ({exc})") from None
        return self.finish(chan, stdin, command, timeout=timeout, on_line=on_line)

    def finish(
        self, chan: paramiko.Channel, stdin: bytes, command: str, *, timeout: float, on_line: LineSink | None = None
    ) -> Result:
        """Give a started command the rest of its stdin, then read it to its end."""
        try:
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            out, err = _drain(chan, timeout, command, on_line)
            code = chan.recv_exit_status()
            chan.close()
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"the SSH connection to {self.target.host} failed ({exc})") from None
        result = Result(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
        self._require_root(result.returncode, result.stderr)
        return result

    def _require_root(self, code: int, stderr: str) -> None:
        if code == NOT_ROOT_EXIT and "@@sp-not-root" in stderr:
            raise SudoFailed(f"{self.target.user} is not root; turn on 'use sudo' for this server")

    def ended(self, chan: paramiko.Channel) -> tuple[int, str]:
        """A held command's exit code and error output, once it has ended by itself."""
        try:
            code = chan.recv_exit_status()
            err = b""
            while chunk := chan.recv_stderr(65536) if chan.recv_stderr_ready() else b"":
                err += chunk
        except (OSError, paramiko.SSHException, EOFError):
            return -1, ""
        finally:
            chan.close()
        said = err.decode("utf-8", "replace")
        self._require_root(code, said)
        return code, said

    def hold(self, command: str, until: str) -> tuple[paramiko.Channel, str]:
        """Start a command that keeps running while its stdin stays open (the server lock), and read its
        output until a line `until` (or its end). Returns the channel, for `finish` or to close, which
        ends the command, and the output read."""
        if self.client is None:
            raise ConnectFailed("not connected")
        line, prefix = self._privileged(command)
        self.commands.append(line)
        marker = f"\n{until}\n".encode()
        try:
            transport = self.client.get_transport()
            if transport is None or not transport.is_active():
                raise EOFError("the transport is closed")
            chan = transport.open_session(timeout=CONNECT_TIMEOUT)
            chan.exec_command(line)
            if prefix:
                chan.sendall(prefix)
            buf = bytearray(b"\n")  # so that a first line can match too
            deadline = time.monotonic() + 30
            while buf.find(marker, max(0, len(buf) - 65536 - len(marker))) < 0:
                if chan.exit_status_ready() and not chan.recv_ready():
                    break
                if time.monotonic() > deadline:
                    chan.close()
                    raise CommandFailed(command, -1, "no answer within 30 s")
                r, _, _ = select.select([chan], [], [], 0.5)
                if r:
                    data = chan.recv(65536)
                    if not data:
                        break
                    buf += data
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(
                f"the SSH connection to {self.target.host} failed ({exc or type(exc).__name__})"
            ) from None
        return chan, bytes(buf[1:]).decode("utf-8", "replace")


def _drain(chan: paramiko.Channel, timeout: float, command: str, on_line: LineSink | None) -> tuple[bytes, bytes]:
    """Read stdout and stderr while the command runs; waiting for the exit first can deadlock."""
    out, err = bytearray(), bytearray()
    seen = 0  # how much of `out` went to on_line
    deadline = time.monotonic() + timeout

    def feed(final: bool) -> None:
        nonlocal seen
        if on_line is None:
            return
        end = len(out) if final else out.rfind(b"\n", seen) + 1
        if end > seen:
            for line in bytes(out[seen:end]).decode("utf-8", "replace").splitlines():
                on_line(line)
            seen = end

    while True:
        while chan.recv_ready():
            out += chan.recv(65536)
        while chan.recv_stderr_ready():
            err += chan.recv_stderr(65536)
        feed(final=False)
        if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
            # Collect what may still be in flight after the exit status.
            while data := chan.recv(65536):
                out += data
            feed(final=True)
            return bytes(out), bytes(err)
        if time.monotonic() > deadline:
            chan.close()
            raise CommandFailed(command.split()[0], -1, f"no result after {timeout:.0f} s")
        select.select([chan], [], [], 0.2)
