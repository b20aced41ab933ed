"""The server setup as a plan of steps, and its execution.

`plan_apply` is pure: the project and the server's state in, the file changes and steps out. The CLI's
`plan`, the GUI's preview and "nothing changed" all come from it. Executing a plan runs the same steps
for apply, rollback and remove: back up → write → validate (restore on failure) → enable → activate →
verify (restore and bring the old config back up on failure). Squid is never reloaded with a config it
has not parsed, and an unchanged plan touches nothing.
"""

from __future__ import annotations

import difflib
import getpass
import os
import shlex
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import bcrypt

from core import accesslog, logs, releases, shacrypt, squid
from core.model import DEFAULT_PORT, Project, plural
from core.remote import server, shell
from core.remote.errors import (
    Cancelled,
    CommandFailed,
    RemoteError,
    RepositoryUnreachable,
    SecretNeeded,
    ServerLocked,
    UnsupportedServer,
    ValidationFailed,
    VerifyFailed,
)
from core.remote.events import AFTER_INSTALL, NOT_CANCELLED, TITLES, CancelNote, Emit, LogEvent, Status, StepEvent
from core.remote.server import RemoteFile, ServerState
from core.remote.session import LineSink, Result, SshSession
from core.secret_kind import Kind

if TYPE_CHECKING:
    import paramiko

    from core.bundle import Bundle  # the bundle code (and its downloader) loads only to install from one

DPKG_LOCK_TIMEOUT = 120


@dataclass(frozen=True)
class FileChange:
    path: str
    before: str | None  # None: the file does not exist now
    after: str | None  # None: the file is removed
    mode: int = 0o644
    group: str = "root"
    secret: bool = False

    def diff(self) -> str:
        if self.secret:
            verb = "removed" if self.after is None else "written"
            return f"--- {self.path}\n+++ {self.path}\n(contents hidden: holds a password hash; {verb})\n"
        before = (self.before or "").splitlines(keepends=True)
        after = (self.after or "").splitlines(keepends=True)
        old = self.path if self.before is not None else "/dev/null"
        new = self.path if self.after is not None else "/dev/null"
        return "".join(difflib.unified_diff(before, after, old, new))


@dataclass(frozen=True)
class PlannedStep:
    name: str
    will_change: bool
    detail: str


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlannedStep, ...]
    files: tuple[FileChange, ...]
    port: int  # where Squid must listen afterwards
    scheme: str | None = None  # how the proxy user's password is hashed; None: no proxy login (or not known)
    helper: str = ""  # the helper that checks it
    complete: bool = True  # False: a preview without the passwords, never to be uploaded

    @property
    def changed(self) -> bool:
        return any(s.will_change for s in self.steps)

    def step(self, name: str) -> PlannedStep:
        return next(s for s in self.steps if s.name == name)

    def diff(self) -> str:
        return "".join(f.diff() for f in self.files)


# --- planning (pure) --------------------------------------------------------------------------------


SCHEME_NAMES = {"bcrypt": "bcrypt", "sha512": "SHA-512-crypt"}
SHA512_ROUNDS = 200_000  # ten times crypt's default of 5,000 (about 0.1 s on a laptop)


def hash_scheme(schemes: frozenset[str]) -> str:
    """The strongest scheme the server's helper verifies: bcrypt, else SHA-512-crypt; never DES or MD5."""
    for scheme in server.HASH_SCHEMES:
        if scheme in schemes:
            return scheme
    raise UnsupportedServer(
        "this server's Squid password helper checks neither bcrypt nor SHA-512-crypt passwords, "
        "so proxy authentication cannot be set up safely on it"
    )


def _scheme_of(hashed: str) -> str | None:
    return "bcrypt" if hashed.startswith("$2") else "sha512" if hashed.startswith("$6$") else None


def proxy_password_hash(existing: str | None, user: str, password: str, scheme: str) -> str:
    """Keep the server's hash when it already is a `scheme` hash of the password, so re-applying changes
    nothing; any other (another scheme, one the server can no longer verify) is replaced."""
    for line in (existing or "").splitlines():
        name, _, old = line.partition(":")
        if name != user or _scheme_of(old) != scheme:
            continue
        if scheme == "bcrypt" and bcrypt.checkpw(password.encode(), old.encode()):
            return old
        if scheme == "sha512" and shacrypt.verify(password, old):
            return old
    if scheme == "bcrypt":
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return shacrypt.hash_password(password, SHA512_ROUNDS)


def _file_changes(state: ServerState, desired: list[squid.ManagedFile], removed: list[str]) -> list[FileChange]:
    changes = []
    for f in desired:
        now = state.files.get(f.path)
        if now is None or now.content != f.content or (now.mode, now.owner, now.group) != (f.mode, "root", f.group):
            changes.append(FileChange(f.path, now.content if now else None, f.content, f.mode, f.group, f.secret))
    for path in removed:
        now = state.files.get(path)
        if now is not None:
            changes.append(FileChange(path, now.content, None, secret=path.endswith(".passwd")))
    return changes


def _steps(
    state: ServerState, files: list[FileChange], install: bool, scheme: str | None = None
) -> tuple[PlannedStep, ...]:
    changed = bool(files)
    if not state.running:
        activate = "start Squid"
    elif changed:
        activate = "squid -k reconfigure"
    else:
        activate = "nothing to reload"
    return (
        PlannedStep("install", install, "apt-get install squid" if install else f"Squid {state.squid_version}"),
        PlannedStep(
            "backup",
            changed,
            f"{plural(len(files), 'file')} to {shell.BACKUP_ROOT}" if changed else "nothing to back up",
        ),
        PlannedStep("write", changed, ", ".join(f.path for f in files) or "every file is up to date"),
        PlannedStep("validate", changed, "squid -k parse" if changed else "nothing changed"),
        PlannedStep("enable", not state.enabled, "enable at boot" if not state.enabled else "already enabled at boot"),
        PlannedStep("activate", changed or not state.running, activate),
        PlannedStep(
            "verify",
            changed or not state.running,
            (
                f"process, port and cache.log{_login_words(scheme)}"
                if changed or not state.running
                else "Squid runs and nothing changed"
            ),
        ),
    )


@dataclass(frozen=True)
class Desired:
    """Every file sensorproxy manages on one server as it should be, and the files that must go."""

    rendered: squid.Rendered
    removed: tuple[str, ...]
    layout: squid.SquidLayout  # with this server's own helper path


def desired(project: Project, state: ServerState, layout: squid.SquidLayout, secrets: squid.Secrets | None) -> Desired:
    if state.ncsa_helper:  # where this server's packages put it, not where Debian 12's do
        layout = replace(layout, ncsa_helper=state.ncsa_helper)
    base = state.text(layout.squid_conf)
    if base is None:
        base = squid.stock_conf()  # Squid is not installed yet: its package brings the stock layout
    removed = () if project.proxy.auth_enabled else (layout.passwd_file,)
    return Desired(squid.render(project, base, layout, secrets), removed, layout)


def plan_apply(project: Project, state: ServerState, layout: squid.SquidLayout, secrets: squid.Secrets | None) -> Plan:
    """What applying `project` to a server in `state` changes. Without secrets: a preview only."""
    install = state.squid_version is None
    scheme = hash_scheme(state.hash_schemes) if project.proxy.auth_enabled and not install else None
    wanted = desired(project, state, layout, secrets)
    rendered, layout = wanted.rendered, wanted.layout
    desired_files = list(rendered.files)
    if project.proxy.auth_enabled and rendered.file(layout.passwd_file) is None:
        # Preview without the password: the hash is made at apply; keep an existing file for the same user.
        existing = state.text(layout.passwd_file) or ""
        if not existing.startswith(f"{project.proxy.auth_user}:"):
            desired_files.append(squid.ManagedFile(layout.passwd_file, "(hashed at apply)\n", 0o640, "proxy", True))
    files = _file_changes(state, desired_files, list(wanted.removed))
    steps = _steps(state, files, install, scheme)
    return Plan(steps, tuple(files), project.proxy.port, scheme, layout.ncsa_helper, rendered.complete)


def _login_words(scheme: str | None) -> str:
    return f", and the proxy login with its {SCHEME_NAMES[scheme]} password hash" if scheme else ""


def plan_remove(state: ServerState, layout: squid.SquidLayout) -> Plan:
    conf = state.text(layout.squid_conf)
    desired = []
    if conf is not None and squid.managed_text(conf) is not None:
        desired.append(squid.ManagedFile(layout.squid_conf, squid.without_block(conf)))
    files = _file_changes(state, desired, [layout.dropin, layout.sensors_file, layout.passwd_file])
    return Plan(_steps(state, files, False), tuple(files), _port_after(layout, state, tuple(files)))


def plan_restore(state: ServerState, layout: squid.SquidLayout, backup: dict[str, RemoteFile | None]) -> Plan:
    desired = [squid.ManagedFile(p, f.content, f.mode, f.group) for p, f in backup.items() if f is not None]
    removed = [p for p, f in backup.items() if f is None]
    files = _file_changes(state, desired, removed)
    return Plan(_steps(state, files, False), tuple(files), _port_after(layout, state, tuple(files)))


def managed_rules(
    layout: squid.SquidLayout, state: ServerState, files: tuple[FileChange, ...] = ()
) -> squid.ReadBack | None:
    """What the server's managed rules encode, now or after `files` are written."""
    after = {f.path: f.after for f in files}

    def text(path: str) -> str | None:
        return after[path] if path in after else state.text(path)

    for path in (layout.dropin, layout.squid_conf):
        rules = text(path)
        if rules and squid.managed_text(rules) is not None:
            return squid.read_back(rules, text(layout.sensors_file))
    return None


def _port_after(layout: squid.SquidLayout, state: ServerState, files: tuple[FileChange, ...] = ()) -> int:
    rules = managed_rules(layout, state, files)
    return rules.proxy.port if rules else DEFAULT_PORT


# --- talking to the server --------------------------------------------------------------------------


def probe(session: SshSession, layout: squid.SquidLayout) -> ServerState:
    paths = server.managed_paths(layout)
    result = session.check(
        session.script(shell.render("probe.sh", root=layout.root), layout.conf_dir, *paths, timeout=60),
        "checking the server",
    )
    return server.parse_probe(result.stdout, paths)


def read_backup(session: SshSession, layout: squid.SquidLayout, name: str) -> dict[str, RemoteFile | None]:
    script = shell.render("read_backup.sh", root=layout.root)
    out = session.check(session.script(script, name), f"reading backup {name}").stdout
    files: dict[str, RemoteFile | None] = {}
    for chunk in out.split("\n@@sp ")[1:]:
        head, *body = chunk.splitlines()
        state, path = head.split(" ", 1)
        if state == "absent":
            files[path] = None
        else:
            files[path] = server.remote_file(body)
    return files


@dataclass
class Locked:
    """The server's state read under its lock, and the lock's own command, which runs the one change
    script of this run (or, closed without one, just ends): an apply is a single SSH exec."""

    state: ServerState
    chan: paramiko.Channel
    session: SshSession

    def run(self, script: str, *, timeout: float, on_line: LineSink) -> Result:
        return self.session.finish(self.chan, script.encode(), "sh -s", timeout=timeout, on_line=on_line)


@contextmanager
def server_lock(session: SshSession, layout: squid.SquidLayout) -> Iterator[Locked]:
    """Hold the server's lock for the whole run and yield the server's state, read under the lock.
    A second run is refused with who holds the lock and since when. The lock lives in a process tied
    to this SSH session, so a crashed laptop cannot leave it stuck."""
    owner = f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()}) since {_now()}"
    paths = server.managed_paths(layout)
    command = server.lock_and_probe(owner, root=layout.root) + " " + shlex.join([layout.conf_dir, *paths])
    chan, out = session.hold(command, "@@sp-end")
    first, _, rest = out.partition("\n")
    if first.startswith("BUSY"):
        chan.close()
        holder = first.removeprefix("BUSY").strip() or "another sensorproxy run"
        raise ServerLocked(f"{session.target.host} is being changed by {holder}; try again when it is done")
    if first != "LOCKED":  # the lock script failed (its run directory, say): its own words say why
        code, said = session.ended(chan)
        raise CommandFailed(shell.failure(code, "taking the server's lock"), code, said or out)
    try:
        yield Locked(server.parse_probe(rest.partition("\n@@sp-end")[0], paths), chan, session)
    finally:
        if not chan.closed:  # no script ran: its command reads the end of its input and ends, lock and all
            chan.shutdown_write()
            chan.close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- execution --------------------------------------------------------------------------------------

_SCRIPT_STATUS = {
    "running": Status.RUNNING,
    "changed": Status.CHANGED,
    "failed": Status.FAILED,
    "rolled_back": Status.ROLLED_BACK,
}


@dataclass
class Run:
    """One apply/rollback/remove against a connected session, reporting every step through `emit`."""

    session: SshSession
    layout: squid.SquidLayout
    emit: Emit = lambda _e: None
    cancel: Callable[[], bool] = lambda: False
    backup_set: str | None = None
    dpkg_timeout: int = DPKG_LOCK_TIMEOUT  # how long an install waits for another package manager
    installed: bool = False  # this run installed Squid
    locked: Locked | None = None  # the server lock, from preflight
    changed_at: float | None = None  # when the new configuration took effect, by the server's clock

    def __post_init__(self) -> None:
        self.emit = logs.logged(self.emit)  # every step and server answer also goes to the log

    def log(self, step: str, text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                self.emit(LogEvent(step, line))

    def mark(self, name: str, status: Status, message: str = "") -> None:
        self.emit(StepEvent(name, status, message))

    def check_cancel(self) -> None:
        if self.cancel():
            if self.installed:
                raise Cancelled("cancelled after Squid was installed; its configuration was not changed")
            raise Cancelled("cancelled; nothing on the server was changed")

    def connect(self) -> None:
        self.mark("connect", Status.RUNNING, TITLES["connect"])
        try:
            if self.session.client is None:
                self.session.connect()
        except RemoteError as exc:
            self.mark("connect", Status.FAILED, str(exc))
            raise
        self.mark("connect", Status.UNCHANGED, f"{self.session.target.user}@{self.session.target.host}")

    @contextmanager
    def preflight(self) -> Iterator[ServerState]:
        """Take the server lock and check the server; the lock is held until the block ends, and its
        command runs this run's change script (execute)."""
        self.mark("preflight", Status.RUNNING, TITLES["preflight"])
        try:
            with server_lock(self.session, self.layout) as locked:
                self.locked = locked
                state = locked.state
                if problem := server.os_problem(state):
                    raise UnsupportedServer(problem)
                self.log(
                    "preflight",
                    f"{state.os_name} ({state.arch}), Squid {state.squid_version or 'not installed'}, "
                    f"{'systemd' if state.systemd else 'no systemd'}, "
                    f"{'running' if state.running else 'stopped'}",
                )
                if state.dpkg_locked:
                    self.log("preflight", "the package manager is busy (dpkg lock held); an install waits for it")
                self.mark("preflight", Status.UNCHANGED, state.os_name)
                yield state
        except (ServerLocked, UnsupportedServer) as exc:
            self.mark("preflight", Status.FAILED, str(exc))
            raise

    def install(self, state: ServerState, bundle: Bundle | None = None) -> ServerState:
        if state.squid_version is not None:
            self.mark("install", Status.UNCHANGED, f"Squid {state.squid_version} is installed")
            return state
        self.check_cancel()
        self.mark("install", Status.RUNNING, TITLES["install"])
        self.emit(CancelNote(AFTER_INSTALL))
        on_line = lambda line: self.emit(LogEvent("install", line))  # noqa: E731
        if bundle is not None:
            if problem := bundle.problem(state):
                self.mark("install", Status.FAILED, problem)
                raise UnsupportedServer(problem)
            self.log(
                "install", f"uploading {len(bundle.packages)} packages ({bundle.size / 1e6:.1f} MB) from the bundle"
            )
            remote = self.session.upload(bundle.files)
            from core.bundle import INDEX

            listed = [(bundle.index_sha256, INDEX)] + [(p.sha256, p.file) for p in bundle.packages]
            script = server.install_bundle(listed, root=self.layout.root)
            result = self.session.script(
                script, remote, str(self.dpkg_timeout), timeout=self.dpkg_timeout + 900, on_line=on_line
            )
        else:
            result = self.session.script(
                server.install(root=self.layout.root),
                str(self.dpkg_timeout),
                timeout=self.dpkg_timeout + 900,
                on_line=on_line,
            )
        if bundle is None and result.returncode == shell.Exit.REPO_UNREACHABLE:
            unreachable = self._unreachable(state, result.stdout)
            self.mark("install", Status.FAILED, str(unreachable))
            raise unreachable
        if not result.ok:
            why = shell.failure(result.returncode, "the install")
            if bundle is not None and result.returncode == shell.Exit.APT_INSTALL:
                why = "installing from the bundle (apt-get, with the bundle as its only source)"
            # apt's own messages are in the log the script followed, that is on stdout
            error = CommandFailed(why, result.returncode, result.stderr or result.stdout[-2000:])
            self.mark("install", Status.FAILED, str(error))
            raise error
        state = probe(self.session, self.layout)
        if state.squid_version is None:
            error = CommandFailed("installing Squid", 0, "apt-get finished but squid is not on the server")
            self.mark("install", Status.FAILED, str(error))
            raise error
        self.installed = True
        self.mark("install", Status.CHANGED, f"installed Squid {state.squid_version}")
        self.emit(CancelNote(""))
        return state

    def _unreachable(self, state: ServerState, output: str) -> RepositoryUnreachable:
        """One sentence: which server cannot reach its repository, why, and the way round it."""
        reasons = [
            line.removeprefix("unreachable: ") for line in output.splitlines() if line.startswith("unreachable: ")
        ]
        known = releases.of_server(state.os_id, state.os_version)
        why = reasons[-1] if reasons else "apt could not download from it"
        return RepositoryUnreachable(
            f"the {known.name if known else state.os_name} server {self.session.target.host} cannot reach its package "
            f"repository ({why}): make a bundle with `sensorproxy bundle --release {known.name if known else 'NAME'}` "
            "and apply with `--bundle`"
        )

    def execute(self, plan: Plan, state: ServerState, login: tuple[str, str] | None = None) -> bool:
        """Run a plan's changes as one transaction on the server; True when anything changed. With
        `login` (the proxy user and password), verify proves the helper accepts it."""
        if not plan.changed:
            for step in plan.steps[1:]:
                self.mark(step.name, Status.UNCHANGED, step.detail)
            return False
        if not plan.complete:  # a preview's files, with a password missing, are never uploaded
            raise SecretNeeded(Kind.PROXY, "the files still lack a password (a preview)")
        if not plan.files:
            for name in ("backup", "write", "validate"):
                self.mark(name, Status.UNCHANGED, plan.step(name).detail)
        activate = plan.step("activate").will_change
        self.check_cancel()  # the last point to stop: a started transaction completes or rolls back
        self.emit(CancelNote(NOT_CANCELLED))
        self.backup_set = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") if plan.files else None
        script = server.transaction(
            conf_dir=self.layout.conf_dir,
            squid_conf=self.layout.squid_conf,
            backup_set=self.backup_set,
            writes=[server.Write(f.path, f.after, f.mode, f.group) for f in plan.files],
            enable=not state.enabled,
            activate=activate,
            port=plan.port,
            old_port=_port_after(self.layout, state),
            login=server.Login(plan.helper, self.layout.passwd_file, *login) if login and plan.scheme else None,
            root=self.layout.root,
        )
        logs: dict[str, list[str]] = {}

        def on_line(line: str) -> None:
            match shell.parse_line(line):
                case shell.LogLine(step, text) if step in TITLES:
                    logs.setdefault(step, []).append(text)
                    self.emit(LogEvent(step, text))
                case shell.StepLine(step, word, said) if step in TITLES and word in _SCRIPT_STATUS:
                    status = _SCRIPT_STATUS[word]
                    message = TITLES[step] if status is Status.RUNNING else said or plan.step(step).detail
                    if status is Status.FAILED:
                        message = (logs.get(step) or ["failed"])[-1]
                    elif status is Status.ROLLED_BACK:
                        message = "the previous files are back"
                    elif step == "validate" and status is Status.CHANGED and logs.get(step):
                        message += f", with {plural(len(logs[step]), 'warning')} (see the log)"
                    diff = plan.diff() if step == "write" and status is Status.CHANGED else ""
                    self.emit(StepEvent(step, status, message, diff))
                case shell.TimeLine(at):
                    self.changed_at = at
                case _ if line.strip():
                    self.emit(LogEvent("write", line))

        assert self.locked is not None, "a change runs under the server lock (preflight)"
        result = self.locked.run(script, on_line=on_line, timeout=300)
        if result.returncode == shell.Exit.REJECTED:
            raise ValidationFailed(logs.get("validate", []))
        if result.returncode == shell.Exit.NOT_SERVING:
            said = logs.get("verify", [])
            if shell.LOGIN_REFUSED in said and login and plan.scheme:
                raise VerifyFailed(
                    f"this server's Squid cannot check {SCHEME_NAMES[plan.scheme]} passwords: its helper "
                    f"{plan.helper} refused the proxy user {login[0]} with the right password; the previous "
                    "files are back"
                )
            raise VerifyFailed("; ".join(said) or "Squid did not serve the new configuration")
        if not result.ok:
            why = shell.failure(result.returncode, "changing the server")
            raise CommandFailed(why, result.returncode, result.stderr or result.stdout)
        return True

    def outcome(self, changed: bool, plan: Plan, state: ServerState, start: float) -> Outcome:
        return Outcome(
            changed,
            plan,
            self.backup_set,
            time.monotonic() - start,
            len(self.session.commands),
            managed_rules(self.layout, state, plan.files),
            self.changed_at or state.changed_at,
        )


@dataclass(frozen=True)
class Outcome:
    changed: bool
    plan: Plan
    backup_set: str | None
    seconds: float
    round_trips: int
    rules: squid.ReadBack | None = None  # the server's managed rules afterwards
    since: float | None = None  # when the configuration now running took effect, by the server's clock


def apply(
    project: Project,
    session: SshSession,
    passwords: Mapping[Kind, str],
    *,
    layout: squid.SquidLayout | None = None,
    emit: Emit | None = None,
    cancel: Callable[[], bool] | None = None,
    bundle: Bundle | None = None,
    dpkg_timeout: int = DPKG_LOCK_TIMEOUT,
) -> Outcome:
    """Apply `project`; Squid is installed with apt, or without any network from `bundle`."""
    layout = layout or squid.SquidLayout()
    run = Run(session, layout, emit or (lambda _e: None), cancel or (lambda: False), dpkg_timeout=dpkg_timeout)
    start = time.monotonic()
    run.connect()
    _require_passwords(project, passwords)  # asked for once the server has answered, before any change
    with run.preflight() as state:
        state = run.install(state, bundle)
        secrets = _secrets(project, state, layout, passwords)
        plan = plan_apply(project, state, layout, secrets)
        password = passwords.get(Kind.PROXY)
        login = (project.proxy.auth_user, password) if project.proxy.auth_enabled and password else None
        changed = run.execute(plan, state, login)
    return run.outcome(changed, plan, state, start)


def _require_passwords(project: Project, passwords: Mapping[Kind, str]) -> None:
    proxy = project.proxy
    if proxy.auth_enabled and not passwords.get(Kind.PROXY):
        raise SecretNeeded(Kind.PROXY, f"proxy authentication is on for user {proxy.auth_user}")
    if proxy.parent and proxy.parent.user and not passwords.get(Kind.PARENT):
        raise SecretNeeded(Kind.PARENT, f"the parent proxy login {proxy.parent.user}")


def _secrets(
    project: Project, state: ServerState, layout: squid.SquidLayout, passwords: Mapping[Kind, str]
) -> squid.Secrets:
    _require_passwords(project, passwords)
    pw_hash = proxy_hash(project, state, layout, passwords.get(Kind.PROXY))
    return squid.Secrets(proxy_password_hash=pw_hash, parent_password=passwords.get(Kind.PARENT))


def proxy_hash(project: Project, state: ServerState, layout: squid.SquidLayout, password: str | None) -> str | None:
    """The proxy user's password hash for this server: the one it has when that still fits (so nothing
    changes), else a new one of the strongest scheme its helper checks. None: no login, or no Squid yet
    (hashed at apply, once the installed helper can be asked)."""
    proxy = project.proxy
    if not (proxy.auth_enabled and password and state.squid_version is not None):
        return None
    scheme = hash_scheme(state.hash_schemes)
    return proxy_password_hash(state.text(layout.passwd_file), proxy.auth_user, password, scheme)


def check(
    project: Project, session: SshSession, passwords: Mapping[Kind, str], *, layout: squid.SquidLayout | None = None
) -> tuple[Plan, ServerState]:
    """Check mode: what apply would do; nothing on the server changes."""
    layout = layout or squid.SquidLayout()
    if session.client is None:
        session.connect()
    state = probe(session, layout)
    if problem := server.os_problem(state):
        raise UnsupportedServer(problem)
    secrets = _secrets(project, state, layout, passwords) if passwords else None
    return plan_apply(project, state, layout, secrets), state


def rollback(
    session: SshSession,
    *,
    factory: bool = False,
    layout: squid.SquidLayout | None = None,
    emit: Emit | None = None,
) -> Outcome:
    """Put back the files as they were before the last change (or Squid's factory squid.conf)."""
    layout = layout or squid.SquidLayout()
    run = Run(session, layout, emit or (lambda _e: None))
    start = time.monotonic()
    run.connect()
    with run.preflight() as state:
        if factory:
            if not state.has_factory_copy:
                raise UnsupportedServer(f"{layout.conf_dir}/squid.conf.factory does not exist on this server")
            factory_text = session.check(
                session.script(shell.render("read_file.sh"), f"{layout.conf_dir}/squid.conf.factory"),
                "reading squid.conf.factory",
            ).stdout
            conf = state.files.get(layout.squid_conf)
            target = {
                layout.squid_conf: RemoteFile(factory_text, conf.mode if conf else 0o644, "root", "root"),
                layout.dropin: None,
                layout.sensors_file: None,
                layout.passwd_file: None,
            }
        else:
            if not state.backups:
                raise UnsupportedServer(f"there is no backup under {shell.BACKUP_ROOT} to roll back to")
            target = read_backup(session, layout, state.backups[-1])
        run.mark("install", Status.SKIPPED)
        plan = plan_restore(state, layout, target)
        changed = run.execute(plan, state)
    return run.outcome(changed, plan, state, start)


def remove(session: SshSession, *, layout: squid.SquidLayout | None = None, emit: Emit | None = None) -> Outcome:
    """Delete sensorproxy's drop-in, block and password file; Squid keeps running with the rest."""
    layout = layout or squid.SquidLayout()
    run = Run(session, layout, emit or (lambda _e: None))
    start = time.monotonic()
    run.connect()
    with run.preflight() as state:
        run.mark("install", Status.SKIPPED)
        plan = plan_remove(state, layout)
        changed = run.execute(plan, state)
    return run.outcome(changed, plan, state, start)


@dataclass(frozen=True)
class SensorPresence:
    """One address, and whether the project lists it (enabled) and the server's rules allow it."""

    address: str
    name: str
    in_project: bool
    on_server: bool


Connections = tuple[tuple[accesslog.Activity, ...], tuple[accesslog.Activity, ...]]  # sensors, strangers


@dataclass(frozen=True)
class ServerStatus:
    state: ServerState
    managed: squid.ReadBack | None
    last_apply: str | None
    backups: tuple[str, ...]
    log: tuple[accesslog.Entry, ...] = ()  # the tail of Squid's access log, when it was read
    read_at: float = 0.0  # the workstation's clock when the server answered

    @property
    def since(self) -> float | None:
        """When the running sensorproxy configuration took effect (server clock); None when none runs."""
        return self.state.changed_at if self.managed is not None and self.state.running else None

    @property
    def why_none(self) -> str:
        return "Squid is not running" if not self.state.running else "no sensorproxy rules on the server"

    def connections(self, project: Project) -> Connections:
        """Per enabled sensor of the project, and per unknown client: its lines, split at the change."""
        return accesslog.summarize(list(self.log), project.normalized().sensors, self.since)

    @property
    def offset(self) -> float:
        """The workstation's clock minus the server's: server times shown on the workstation's clock."""
        return self.read_at - self.state.now if self.state.now and self.read_at else 0.0

    def snapshot(self, rows: tuple[accesslog.Activity, ...]) -> accesslog.Snapshot:
        """The sensor table's view of this answer, from its `connections` (worked out once per read)."""
        allowed = self.managed.allowed_addresses() if self.managed else frozenset()
        return accesslog.snapshot(rows, allowed, self.since, self.offset, self.why_none)

    @property
    def port(self) -> int | None:
        return self.managed.proxy.port if self.managed else None

    def compare(self, project: Project) -> tuple[SensorPresence, ...]:
        """Every enabled sensor of the project and every sensor the server allows, server's order first."""
        wanted = {s.address: s.name for s in project.normalized().sensors if s.enabled}
        allowed = self.managed.allowed() if self.managed else ()
        rows = [SensorPresence(s.address, s.name, s.address in wanted, True) for s in allowed]
        on_server = {s.address for s in allowed}
        rows += [SensorPresence(a, n, True, False) for a, n in wanted.items() if a not in on_server]
        return tuple(rows)


def status(session: SshSession, *, layout: squid.SquidLayout | None = None, with_log: bool = True) -> ServerStatus:
    """What the server runs, its managed rules read back, and (with_log) the tail of the access log."""
    layout = layout or squid.SquidLayout()
    if session.client is None:
        session.connect()
    state = probe(session, layout)
    read_at = time.time()
    last = state.backups[-1] if state.backups else None
    log: tuple[accesslog.Entry, ...] = ()
    if with_log:
        log_file = layout.root + accesslog.LOG_FILE
        result = session.script(shell.render("read_log.sh"), log_file, str(accesslog.TAIL_LINES))
        log = tuple(accesslog.parse(session.check(result, "reading Squid's access log").stdout))
    return ServerStatus(state, managed_rules(layout, state), last, state.backups, log, read_at)
