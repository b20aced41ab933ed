"""The server setup as a plan of steps, and its execution.

`plan_apply` is pure: the project and the server's state in, the file changes and steps out. The CLI's
`plan`, the GUI's preview and "nothing changed" all come from it. Executing a plan runs the same steps
for apply, rollback and remove: back up → write → validate (restore on failure) → enable → activate →
verify (restore and bring the old config back up on failure). Squid is never reloaded with a config it
has not parsed, and an unchanged plan touches nothing.
"""

from __future__ import annotations

import base64
import difflib
import getpass
import os
import shlex
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import bcrypt

from core import squid
from core.model import Project
from core.remote import server
from core.remote.errors import (
    Cancelled,
    CommandFailed,
    RemoteError,
    SecretNeeded,
    ServerLocked,
    UnsupportedServer,
    ValidationFailed,
    VerifyFailed,
)
from core.remote.server import RemoteFile, ServerState
from core.remote.session import SshSession

DPKG_LOCK_TIMEOUT = 120

STEPS = (
    ("connect", "Connect"),
    ("preflight", "Check the server"),
    ("install", "Install Squid"),
    ("backup", "Back up"),
    ("write", "Write the configuration"),
    ("validate", "Validate (squid -k parse)"),
    ("enable", "Enable at boot"),
    ("activate", "Start or reload Squid"),
    ("verify", "Verify"),
)
TITLES = dict(STEPS)


class Status(StrEnum):
    RUNNING = "running"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    ROLLED_BACK = "rolled back"


@dataclass(frozen=True)
class StepEvent:
    step: str
    status: Status
    message: str = ""
    diff: str = ""


@dataclass(frozen=True)
class LogEvent:
    step: str
    line: str


Event = StepEvent | LogEvent
Emit = Callable[[Event], None]


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

    @property
    def changed(self) -> bool:
        return any(s.will_change for s in self.steps)

    def step(self, name: str) -> PlannedStep:
        return next(s for s in self.steps if s.name == name)

    def diff(self) -> str:
        return "".join(f.diff() for f in self.files)


@dataclass(frozen=True)
class Passwords:
    """The proxy user's and the parent proxy's passwords; only a hash of the first leaves the laptop."""

    proxy: str | None = None
    parent: str | None = None


# --- planning (pure) --------------------------------------------------------------------------------


def proxy_password_hash(existing: str | None, user: str, password: str) -> str:
    """Keep the server's hash when it already matches the password, so re-applying changes nothing."""
    for line in (existing or "").splitlines():
        name, _, old = line.partition(":")
        if name == user and old.startswith("$2") and bcrypt.checkpw(password.encode(), old.encode()):
            return old
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def _file_changes(
    state: ServerState, desired: list[squid.ManagedFile], removed: list[str]
) -> list[FileChange]:
    changes = []
    for f in desired:
        now = state.files.get(f.path)
        if (
            now is None
            or now.content != f.content
            or (now.mode, now.owner, now.group) != (f.mode, "root", f.group)
        ):
            changes.append(
                FileChange(f.path, now.content if now else None, f.content, f.mode, f.group, f.secret)
            )
    for path in removed:
        now = state.files.get(path)
        if now is not None:
            changes.append(FileChange(path, now.content, None, secret=path.endswith(".passwd")))
    return changes


def _steps(state: ServerState, files: list[FileChange], install: bool) -> tuple[PlannedStep, ...]:
    changed = bool(files)
    if not state.running:
        activate = "start Squid"
    elif changed:
        activate = "squid -k reconfigure"
    else:
        activate = "nothing to reload"
    return (
        PlannedStep(
            "install", install, "apt-get install squid" if install else f"Squid {state.squid_version}"
        ),
        PlannedStep(
            "backup",
            changed,
            f"{len(files)} file(s) to {server.BACKUP_ROOT}" if changed else "nothing to back up",
        ),
        PlannedStep("write", changed, ", ".join(f.path for f in files) or "every file is up to date"),
        PlannedStep("validate", changed, "squid -k parse" if changed else "nothing changed"),
        PlannedStep(
            "enable", not state.enabled, "enable at boot" if not state.enabled else "already enabled"
        ),
        PlannedStep("activate", changed or not state.running, activate),
        PlannedStep("verify", changed or not state.running, "process, port and cache.log"),
    )


def plan_apply(
    project: Project, state: ServerState, layout: squid.SquidLayout, secrets: squid.Secrets | None
) -> Plan:
    """What applying `project` to a server in `state` changes. Without secrets: a preview only."""
    install = state.squid_version is None
    base = state.text(layout.squid_conf)
    if base is None:
        base = squid.stock_conf()  # Squid is not installed yet: its package brings the stock layout
    rendered = squid.render(project, base, layout, secrets)
    desired = list(rendered.files)
    removed = [] if project.proxy.auth_enabled else [layout.passwd_file]
    if project.proxy.auth_enabled and rendered.file(layout.passwd_file) is None:
        # Preview without the password: the hash is made at apply; keep an existing file for the same user.
        existing = state.text(layout.passwd_file) or ""
        if not existing.startswith(f"{project.proxy.auth_user}:"):
            desired.append(squid.ManagedFile(layout.passwd_file, "(hashed at apply)\n", 0o640, "proxy", True))
    files = _file_changes(state, desired, removed)
    return Plan(_steps(state, files, install), tuple(files), project.proxy.port)


def plan_remove(state: ServerState, layout: squid.SquidLayout) -> Plan:
    conf = state.text(layout.squid_conf)
    desired = []
    if conf is not None and squid.managed_text(conf) is not None:
        desired.append(squid.ManagedFile(layout.squid_conf, squid.without_block(conf)))
    files = _file_changes(state, desired, [layout.dropin, layout.passwd_file])
    return Plan(_steps(state, files, False), tuple(files), _port_after(layout, state, files))


def plan_restore(state: ServerState, layout: squid.SquidLayout, backup: dict[str, RemoteFile | None]) -> Plan:
    desired = [squid.ManagedFile(p, f.content, f.mode, f.group) for p, f in backup.items() if f is not None]
    removed = [p for p, f in backup.items() if f is None]
    files = _file_changes(state, desired, removed)
    return Plan(_steps(state, files, False), tuple(files), _port_after(layout, state, files))


def _port_after(layout: squid.SquidLayout, state: ServerState, files: list[FileChange]) -> int:
    after = {f.path: f.after for f in files}
    for path in (layout.dropin, layout.squid_conf):
        text = after[path] if path in after else state.text(path)
        if text and squid.managed_text(text) is not None:
            return squid.read_back(text).proxy.port
    return 3128


# --- talking to the server --------------------------------------------------------------------------


def probe(session: SshSession, layout: squid.SquidLayout) -> ServerState:
    paths = server.managed_paths(layout)
    result = session.check(
        session.script(server.PROBE, layout.conf_dir, *paths, timeout=60), "checking the server"
    )
    return server.parse_probe(result.stdout, paths)


def read_backup(session: SshSession, name: str) -> dict[str, RemoteFile | None]:
    script = r"""
dir=/var/backups/sensorproxy/$1
[ -f "$dir/manifest" ] || { echo "no backup set $1" >&2; exit 3; }
while read -r state i p; do
  printf '\n@@sp %s %s\n' "$state" "$p"
  [ "$state" = present ] && { stat -c '%a %U %G' "$dir/$i"; base64 < "$dir/$i"; }
done < "$dir/manifest"
"""
    out = session.check(session.script(script, name), f"reading backup {name}").stdout
    files: dict[str, RemoteFile | None] = {}
    for chunk in out.split("\n@@sp ")[1:]:
        head, *body = chunk.splitlines()
        state, path = head.split(" ", 1)
        if state == "absent":
            files[path] = None
        else:
            mode, owner, group = body[0].split()
            content = base64.b64decode("".join(body[1:])).decode("utf-8", "replace")
            files[path] = RemoteFile(content, int(mode, 8), owner, group)
    return files


@contextmanager
def server_lock(session: SshSession) -> Iterator[None]:
    """Hold the server's lock for the whole run; a second run is refused with who holds it, and since when.
    The lock lives in a process tied to this SSH session, so a crashed laptop cannot leave it stuck."""
    owner = f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()}) since {_now()}"
    command = (
        "sh -c "
        + shlex.quote(
            f'exec 9>>{server.LOCK_FILE}; if flock -n 9; then printf "%s\\n" "$1" > {server.OWNER_FILE}; '
            f'echo LOCKED; exec cat >/dev/null; else echo "BUSY $(cat {server.OWNER_FILE} 2>/dev/null)"; fi'
        )
        + " sh "
        + shlex.quote(owner)
    )
    chan, out = session.hold(command, lambda text: "LOCKED" in text or "BUSY" in text)
    if "LOCKED" not in out:
        chan.close()
        holder = out.partition("BUSY")[2].strip() or "another sensorproxy run"
        raise ServerLocked(f"{session.target.host} is being changed by {holder}; try again when it is done")
    try:
        yield
    finally:
        chan.shutdown_write()
        chan.close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- execution --------------------------------------------------------------------------------------


@dataclass
class Run:
    """One apply/rollback/remove against a connected session, reporting every step through `emit`."""

    session: SshSession
    layout: squid.SquidLayout
    emit: Emit = lambda _e: None
    cancel: Callable[[], bool] = lambda: False
    backup_set: str | None = None
    wrote: bool = field(default=False)

    def log(self, step: str, text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                self.emit(LogEvent(step, line))

    @contextmanager
    def step(self, name: str) -> Iterator[list[StepEvent]]:
        """Emit RUNNING, then the event the body leaves in the slot (CHANGED by default), or FAILED."""
        self.emit(StepEvent(name, Status.RUNNING, TITLES[name]))
        slot = [StepEvent(name, Status.CHANGED)]
        try:
            yield slot
        except RemoteError as exc:
            self.emit(StepEvent(name, Status.FAILED, str(exc)))
            raise
        self.emit(slot[0])

    def mark(self, name: str, status: Status, message: str = "") -> None:
        self.emit(StepEvent(name, status, message))

    def check_cancel(self) -> None:
        if not self.cancel():
            return
        if self.wrote:
            self._restore()
            self.emit(StepEvent("write", Status.ROLLED_BACK, "cancelled: the previous files are back"))
        raise Cancelled(
            "cancelled by the user; "
            + ("the previous files are back" if self.wrote else "nothing on the server was changed")
        )

    def connect(self) -> None:
        with self.step("connect") as slot:
            if self.session.client is None:
                self.session.connect()
            slot[0] = StepEvent(
                "connect", Status.UNCHANGED, f"{self.session.target.user}@{self.session.target.host}"
            )

    def preflight(self) -> ServerState:
        with self.step("preflight") as slot:
            state = probe(self.session, self.layout)
            if problem := server.os_problem(state):
                raise UnsupportedServer(problem)
            self.log(
                "preflight",
                f"{state.os_name} ({state.arch}), Squid {state.squid_version or 'not installed'}, "
                f"{'systemd' if state.systemd else 'no systemd'}, "
                f"{'running' if state.running else 'stopped'}",
            )
            if state.dpkg_locked:
                self.log(
                    "preflight", "the package manager is busy (dpkg lock held); an install would wait for it"
                )
            slot[0] = StepEvent("preflight", Status.UNCHANGED, state.os_name)
        return state

    def install(self, state: ServerState) -> ServerState:
        if state.squid_version is not None:
            self.mark("install", Status.UNCHANGED, f"Squid {state.squid_version} is installed")
            return state
        self.check_cancel()
        with self.step("install"):
            result = self.session.script(
                server.INSTALL, str(DPKG_LOCK_TIMEOUT), timeout=DPKG_LOCK_TIMEOUT + 900
            )
            self.log("install", result.stdout[-4000:])
            if not result.ok:
                why = {10: "apt-get update", 11: "apt-get install squid"}.get(
                    result.returncode, "the install"
                )
                raise CommandFailed(why, result.returncode, result.stderr)
            state = probe(self.session, self.layout)
            if state.squid_version is None:
                raise CommandFailed("installing Squid", 0, "apt-get finished but squid is not on the server")
        return state

    def execute(self, plan: Plan, state: ServerState) -> bool:
        """Run a plan's steps after preflight; True when anything changed."""
        if not plan.files:
            for name in ("backup", "write", "validate"):
                self.mark(name, Status.UNCHANGED, plan.step(name).detail)
        else:
            self.check_cancel()
            self._backup(plan)
            self.check_cancel()
            self._write(plan)
            self.check_cancel()
            self._validate()
        self.check_cancel()
        self._enable(state)
        if not plan.step("activate").will_change:
            self.mark("activate", Status.UNCHANGED, "nothing to reload")
            self.mark("verify", Status.UNCHANGED, "Squid runs and nothing changed")
            return plan.changed
        self.check_cancel()
        offset = self._activate()
        self._verify(plan.port, offset, state)
        return True

    def _backup(self, plan: Plan) -> None:
        with self.step("backup"):
            name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            paths = [f.path for f in plan.files]
            self.session.check(
                self.session.script(
                    server.BACKUP, self.layout.conf_dir, name, str(server.KEEP_BACKUPS), *paths
                ),
                "backing up",
            )
            self.backup_set = name
            self.log("backup", f"{server.BACKUP_ROOT}/{name}")

    def _write(self, plan: Plan) -> None:
        with self.step("write") as slot:
            self.session.script(server.CLEAN_STAGING, self.layout.conf_dir)
            self.wrote = True
            writes = [(f.path, f.after.encode(), f.mode, f.group) for f in plan.files if f.after is not None]
            if writes:
                self.session.write_files(writes)
            removes = [f.path for f in plan.files if f.after is None]
            if removes:
                self.session.check(self.session.script('rm -f "$@"\n', *removes), "removing files")
            for f in plan.files:
                self.emit(LogEvent("write", f"{'removed' if f.after is None else 'wrote'} {f.path}"))
            slot[0] = StepEvent("write", Status.CHANGED, f"{len(plan.files)} file(s)", plan.diff())

    def _validate(self) -> None:
        with self.step("validate"):
            result = self.session.script(server.PARSE, self.layout.squid_conf, timeout=120)
            errors = [ln for ln in result.stdout.splitlines() if "FATAL" in ln or "Bungled" in ln]
            if result.returncode != 0 or errors:
                errors = errors or [ln for ln in result.stdout.splitlines() if "ERROR" in ln][-10:]
                self._restore()
                self.mark(
                    "write", Status.ROLLED_BACK, "Squid refused the new files; the previous ones are back"
                )
                raise ValidationFailed(errors)
            for line in result.stdout.splitlines():
                if "ERROR" in line or "WARNING" in line:
                    self.log("validate", line)

    def _enable(self, state: ServerState) -> None:
        if state.enabled:
            self.mark("enable", Status.UNCHANGED, "already enabled at boot")
            return
        with self.step("enable"):
            result = self.session.script(server.ENABLE)
            self.log("enable", result.stdout + result.stderr)
            self.session.check(result, "enabling Squid at boot")

    def _activate(self) -> int:
        with self.step("activate"):
            result = self.session.script(server.ACTIVATE, timeout=120)
            lines = result.stdout.splitlines()
            self.log("activate", "\n".join(lines[1:]) + result.stderr)
            return int(lines[0]) if lines and lines[0].isdigit() else 0

    def _verify(self, port: int, offset: int, before: ServerState) -> None:
        with self.step("verify"):
            problem = self._verify_problem(port, offset)
            if problem is None:
                self.log("verify", f"Squid runs and listens on port {port}")
                return
            if self.backup_set is None:
                raise VerifyFailed(problem)
            self._restore()
            recovered = self.session.script(server.ACTIVATE, timeout=120)
            self.log("verify", recovered.stdout + recovered.stderr)
            self.mark("write", Status.ROLLED_BACK, "the previous files are back")
            old_port = _port_after(self.layout, before, [])
            again = self._verify_problem(old_port, 0) if before.running else None
            state = "and the previous configuration is serving again" if again is None else f"but: {again}"
            raise VerifyFailed(f"{problem}; the previous files were restored {state}")

    def _verify_problem(self, port: int, offset: int) -> str | None:
        result = self.session.script(server.VERIFY, str(port), str(offset), timeout=60)
        lines = result.stdout.splitlines()
        facts = dict(
            ln.split("=", 1) for ln in lines if "=" in ln and ln.split("=", 1)[0] in {"running", "listening"}
        )
        fatal = [ln for ln in lines if "FATAL" in ln or "Bungled" in ln]
        if facts.get("running") != "yes":
            return "Squid is not running after the change" + (f" ({fatal[-1].strip()})" if fatal else "")
        if facts.get("listening") != "yes":
            return f"Squid runs but does not listen on port {port}" + (
                f" ({fatal[-1].strip()})" if fatal else ""
            )
        if fatal:
            return f"cache.log reports: {fatal[-1].strip()}"
        return None

    def _restore(self) -> None:
        assert self.backup_set is not None
        self.session.check(self.session.script(server.RESTORE, self.backup_set), "restoring the backup")
        self.wrote = False


# --- the operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    changed: bool
    plan: Plan
    backup_set: str | None
    seconds: float
    round_trips: int


def apply(
    project: Project,
    session: SshSession,
    passwords: Passwords,
    *,
    layout: squid.SquidLayout | None = None,
    emit: Emit | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Outcome:
    layout = layout or squid.SquidLayout()
    run = Run(session, layout, emit or (lambda _e: None), cancel or (lambda: False))
    start = time.monotonic()
    run.connect()
    with server_lock(session):
        state = run.install(run.preflight())
        secrets = _secrets(project, state, layout, passwords)
        plan = plan_apply(project, state, layout, secrets)
        changed = run.execute(plan, state)
    return Outcome(changed, plan, run.backup_set, time.monotonic() - start, len(session.commands))


def _secrets(
    project: Project, state: ServerState, layout: squid.SquidLayout, passwords: Passwords
) -> squid.Secrets:
    proxy = project.proxy
    pw_hash = None
    if proxy.auth_enabled:
        if not passwords.proxy:
            raise SecretNeeded("proxy_password", f"proxy authentication is on for user {proxy.auth_user}")
        pw_hash = proxy_password_hash(state.text(layout.passwd_file), proxy.auth_user, passwords.proxy)
    if proxy.parent and proxy.parent.user and not passwords.parent:
        raise SecretNeeded("parent_password", f"the parent proxy login {proxy.parent.user}")
    return squid.Secrets(proxy_password_hash=pw_hash, parent_password=passwords.parent)


def check(
    project: Project, session: SshSession, passwords: Passwords, *, layout: squid.SquidLayout | None = None
) -> tuple[Plan, ServerState]:
    """Check mode: what apply would do; nothing on the server changes."""
    layout = layout or squid.SquidLayout()
    if session.client is None:
        session.connect()
    state = probe(session, layout)
    if problem := server.os_problem(state):
        raise UnsupportedServer(problem)
    secrets = _secrets(project, state, layout, passwords) if passwords.proxy or passwords.parent else None
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
    with server_lock(session):
        state = run.preflight()
        if factory:
            if not state.has_factory_copy:
                raise UnsupportedServer(f"{layout.conf_dir}/squid.conf.factory does not exist on this server")
            factory_text = session.check(
                session.script('cat "$1"\n', f"{layout.conf_dir}/squid.conf.factory"),
                "reading squid.conf.factory",
            ).stdout
            conf = state.files.get(layout.squid_conf)
            target = {
                layout.squid_conf: RemoteFile(factory_text, conf.mode if conf else 0o644, "root", "root"),
                layout.dropin: None,
                layout.passwd_file: None,
            }
        else:
            if not state.backups:
                raise UnsupportedServer(f"there is no backup under {server.BACKUP_ROOT} to roll back to")
            target = read_backup(session, state.backups[-1])
        run.mark("install", Status.SKIPPED)
        plan = plan_restore(state, layout, target)
        changed = run.execute(plan, state)
    return Outcome(changed, plan, run.backup_set, time.monotonic() - start, len(session.commands))


def remove(
    session: SshSession, *, layout: squid.SquidLayout | None = None, emit: Emit | None = None
) -> Outcome:
    """Delete sensorproxy's drop-in, block and password file; Squid keeps running with the rest."""
    layout = layout or squid.SquidLayout()
    run = Run(session, layout, emit or (lambda _e: None))
    start = time.monotonic()
    run.connect()
    with server_lock(session):
        state = run.preflight()
        run.mark("install", Status.SKIPPED)
        plan = plan_remove(state, layout)
        changed = run.execute(plan, state)
    return Outcome(changed, plan, run.backup_set, time.monotonic() - start, len(session.commands))


@dataclass(frozen=True)
class ServerStatus:
    state: ServerState
    managed: squid.ReadBack | None
    last_apply: str | None
    backups: tuple[str, ...]


def status(session: SshSession, *, layout: squid.SquidLayout | None = None) -> ServerStatus:
    layout = layout or squid.SquidLayout()
    if session.client is None:
        session.connect()
    state = probe(session, layout)
    managed = None
    for path in (layout.dropin, layout.squid_conf):
        text = state.text(path)
        if text and squid.managed_text(text) is not None:
            managed = squid.read_back(text)
            break
    last = state.backups[-1] if state.backups else None
    return ServerStatus(state, managed, last, state.backups)
