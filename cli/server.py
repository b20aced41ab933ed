"""The CLI commands that talk to the proxy server: plan, apply, status, rollback, remove, credentials."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TypeVar

from cli.errors import CliError, UsageError
from cli.prompts import ask, can_confirm, confirm, secrets, warn
from core import accesslog, bundle, credentials, projectfile
from core.model import Project, domain_problem, require_valid
from core.remote import events, outbound, setup
from core.remote.errors import HostKeyUnknown, RemoteError
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.secret_kind import Kind

T = TypeVar("T")
MARKS = {
    events.Status.CHANGED: "changed",
    events.Status.UNCHANGED: "ok",
    events.Status.SKIPPED: "skipped",
    events.Status.FAILED: "FAILED",
    events.Status.ROLLED_BACK: "ROLLED BACK",
}


def connect(project: Project, found: credentials.Secrets, accept: str | None, *, confirm: bool) -> SshSession:
    """Connect, asking for whatever secret the server turns out to need (again, when it refuses one), and
    for host-key trust."""
    while True:
        session = SshSession(project.ssh, KnownHosts.default(), found.login(project), accept_fingerprint=accept)
        try:
            session.connect()
            return session
        except HostKeyUnknown as exc:
            warn(str(exc))
            if accept is not None or not confirm or not ask(f"Trust {exc.key_type} {exc.fingerprint}?"):
                raise
            accept = exc.fingerprint
        except RemoteError as exc:
            if not found.recover(exc, project):
                raise


def print_event(event: events.Event) -> None:
    if isinstance(event, events.CancelNote):
        return  # Ctrl+C is the terminal's cancel: it stops the command, not the server's transaction
    if isinstance(event, events.LogEvent):
        print(f"      {event.line}")
    elif event.status is events.Status.RUNNING:
        print(f"  ... {events.TITLES[event.step]}", flush=True)
    else:
        detail = f": {event.message}" if event.message else ""
        print(f"  [{MARKS[event.status]}] {events.TITLES[event.step]}{detail}", flush=True)
        if event.diff:
            print(event.diff.rstrip("\n"))


def _with_session(args: argparse.Namespace, work: Callable[[Project, SshSession, credentials.Secrets], T]) -> T:
    project = projectfile.load(args.project)
    require_valid(project)
    found = secrets(args.project)
    session = connect(project, found, getattr(args, "accept_host_key", None), confirm=not getattr(args, "yes", False))
    try:
        return work(project, session, found)
    finally:
        session.close()


def cmd_plan(args: argparse.Namespace) -> int:
    def work(project: Project, session: SshSession, found: credentials.Secrets) -> int:
        plan, state = setup.check(project, session, found.passwords(project))
        print(f"{project.ssh.host}: {state.os_name}, Squid {state.squid_version or 'not installed'}")
        for step in plan.steps:
            print(f"  [{'change' if step.will_change else 'ok'}] {events.TITLES[step.name]}: {step.detail}")
        if plan.files:
            print(plan.diff().rstrip("\n"))
        print("check mode: nothing on the server was changed")
        print("changes pending" if plan.changed else "the server is up to date")
        return 0

    return _with_session(args, work)


def cmd_apply(args: argparse.Namespace) -> int:
    offline = bundle.load(args.bundle) if args.bundle else None  # a damaged bundle stops before any SSH
    can_confirm(args, f"Apply {args.project.name} to its server?")

    def work(project: Project, session: SshSession, found: credentials.Secrets) -> int:
        pw = found.passwords(project)
        if not args.yes:
            plan, _ = setup.check(project, session, pw)
            if not plan.changed:
                print("the server is up to date; nothing to do")
                return 0
            print(plan.diff().rstrip("\n") or "(no file changes)")
            if not confirm(args, f"Apply these changes to {project.ssh.host}?"):
                print("nothing was changed", file=sys.stderr)
                return 1
        outcome = setup.apply(project, session, pw, emit=print_event, bundle=offline)
        verdict = "applied" if outcome.changed else "nothing changed"
        print(f"{verdict} in {outcome.seconds:.1f} s, {outcome.round_trips} SSH commands")
        return 0

    return _with_session(args, work)


def cmd_status(args: argparse.Namespace) -> int:
    def work(project: Project, session: SshSession, _found: credentials.Secrets) -> int:
        st = setup.status(session, with_log=args.sensors)
        s = st.state
        print(f"server:    {project.ssh.host} ({s.os_name}, {s.arch})")
        print(
            f"squid:     {s.squid_version or 'not installed'}; {'running' if s.running else 'stopped'}; "
            f"{'enabled' if s.enabled else 'not enabled'} at boot"
        )
        port = st.port or project.proxy.port
        print(f"port:      {port} {'listening' if port in s.listening else 'NOT listening'}")
        print(f"backups:   {len(st.backups)}; last change {st.last_apply or 'never'}")
        if st.managed is None:
            print("sensors:   no sensorproxy rules on this server")
            return 0
        print(f"sensors:   {len(st.managed.allowed())} allowed by the server")
        for row in st.compare(project):
            if not row.on_server:
                print(f"  {row.address:<40} in the project, NOT on the server")
            else:
                print(f"  {row.address:<40} {row.name}{'' if row.in_project else '   (not in the project)'}")
        for note in st.managed.notes:
            print(f"  note: {note}")
        if args.sensors:
            print_connections(project, st)
        return 0

    return _with_session(args, work)


def print_connections(project: Project, st: setup.ServerStatus) -> None:
    """Each sensor's state since the configuration changed, with its time; then clients not in the project."""
    rows, strangers = st.connections(project)
    snap = st.snapshot(rows)
    print(f"connections (the last {len(st.log)} lines of {accesslog.LOG_FILE}):")
    for act in rows:
        print(f"  {act.address:<24} {act.name:<24} {snap.state(act.address)[0]}")
    tunnelled = sum(act.tunnel is not None for act in rows)
    if st.since is None:
        print(f"  no sensor can connect now: {st.why_none}")
    else:
        changed = accesslog.at(st.since + st.offset)
        print(
            f"  {tunnelled} of {len(rows)} enabled sensors tunnelled through since the configuration changed {changed}"
        )
    for act in strangers:
        entry = act.current or act.before
        assert entry is not None  # a client is listed because it has a line
        when = accesslog.span([act], st.offset)
        print(f"  not in the project: {act.address:<24} {entry.result:<30} {when:<14} {entry.url}")


def cmd_rollback(args: argparse.Namespace) -> int:
    what = "squid.conf.factory" if args.factory else "the Squid files from before the last change"
    _confirm_first(args, f"Put back {what} on the server of {args.project.name}?")

    def work(_project: Project, session: SshSession, _found: credentials.Secrets) -> int:
        outcome = setup.rollback(session, factory=args.factory, emit=print_event)
        print("rolled back" if outcome.changed else "nothing to roll back")
        return 0

    return _with_session(args, work)


def cmd_remove(args: argparse.Namespace) -> int:
    _confirm_first(
        args, f"Remove sensorproxy's rules from the server of {args.project.name}? No sensor will get through"
    )

    def work(_project: Project, session: SshSession, _found: credentials.Secrets) -> int:
        outcome = setup.remove(session, emit=print_event)
        print("removed sensorproxy's rules" if outcome.changed else "no sensorproxy rules were on the server")
        return 0

    return _with_session(args, work)


def cmd_check(args: argparse.Namespace) -> int:
    extra = tuple(args.host or ())
    for host in extra:
        if problem := domain_problem(host) if not host.startswith(".") else "a wildcard is not a host name":
            raise UsageError(f"--host {host}: {problem}")

    def work(project: Project, session: SshSession, found: credentials.Secrets) -> int:
        parent = project.proxy.parent
        passwords = {Kind.PARENT: found.secret(Kind.PARENT, project)} if parent and parent.user else {}
        result = outbound.check(session, project, extra, passwords)
        print_check(result)
        return 0 if result.ok else 1

    return _with_session(args, work)


def print_check(result: outbound.CheckResult) -> None:
    via = f" through the parent proxy {result.parent}" if result.parent else ""
    print(f"{result.server}: the way out to Azure{via}")
    width = max(len(e.host) for e in result.endpoints)
    for e in result.endpoints:
        timing = (
            f"dns {e.dns_ms} ms"
            + (f", tcp {e.tcp_ms} ms" if e.tcp else "")
            + (f", tls {e.tls_ms} ms" if e.tls_ms else "")
        )
        print(f"  [{'ok' if e.ok else 'FAIL'}] {e.host:<{width}}  {' '.join(e.addresses) or '-'}  ({timing})")
        print(f"         {e.verdict}")
    offset = result.clock_offset
    clock = f"the server's clock is {abs(offset):.1f} s {'behind' if offset > 0 else 'ahead of'} this computer's"
    print(f"clock: {result.clock_warning or clock}")
    failed = len(result.failed)
    print(f"checked {len(result.endpoints)} endpoints in {result.seconds:.1f} s: "
          f"{len(result.endpoints) - failed} ok, {failed} failed")  # fmt: skip


def _confirm_first(args: argparse.Namespace, question: str) -> None:
    """Asked before connecting: the answer does not depend on what the server holds."""
    projectfile.load(args.project)  # a wrong file name is said before the question
    if not confirm(args, question):
        raise CliError("nothing was changed")


def cmd_credentials(args: argparse.Namespace) -> int:
    project = projectfile.load(args.project)
    secure = credentials.secure_backend_available()
    print(f"passwords: {credentials.backend_name() if secure else credentials.NO_SECURE_STORE}")
    kinds = [Kind(args.kind)] if args.kind else list(Kind)
    if args.action == "status":
        for kind in kinds:
            stored = credentials.get(kind, project) is not None
            print(f"  {kind:<11} {credentials.identity(kind, project):<50} {'stored' if stored else '-'}")
        return 0
    if not args.kind:
        raise credentials.NoSecureStorage("name what to set or delete: ssh, sudo, passphrase, proxy or parent")
    kind = Kind(args.kind)
    if args.action == "delete":
        print("deleted" if credentials.forget(kind, project) else "nothing was stored")
        return 0
    secret = (
        sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty()
        else getpass.getpass(f"{credentials.describe(kind, project)}: ")
    )
    if not secret:
        raise credentials.NoSecureStorage("an empty secret was not stored")
    credentials.store(kind, project, secret)
    print(f"stored {credentials.identity(kind, project)}")
    return 0
