"""The CLI commands that talk to the proxy server: plan, apply, status, rollback, remove, credentials."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from cli import sites
from cli.errors import CliError, UsageError
from cli.prompts import can_confirm, confirm
from cli.sites import Out, Site
from core import accesslog, credentials, projectfile
from core.model import Project, domain_problem
from core.remote import events, setup
from core.secret_kind import Kind

if TYPE_CHECKING:
    from core.remote import outbound

MARKS = {
    events.Status.CHANGED: "changed",
    events.Status.UNCHANGED: "ok",
    events.Status.SKIPPED: "skipped",
    events.Status.FAILED: "FAILED",
    events.Status.ROLLED_BACK: "ROLLED BACK",
}


def print_event(event: events.Event, out: Out = print) -> None:
    if isinstance(event, events.CancelNote):
        return  # Ctrl+C is the terminal's cancel: it stops the command, not the server's transaction
    if isinstance(event, events.LogEvent):
        out(f"      {event.line}")
    elif event.status is events.Status.RUNNING:
        out(f"  ... {events.TITLES[event.step]}")
    else:
        detail = f": {event.message}" if event.message else ""
        out(f"  [{MARKS[event.status]}] {events.TITLES[event.step]}{detail}")
        if event.diff:
            out(event.diff.rstrip("\n"))


def cmd_plan(args: argparse.Namespace) -> int:
    def work(site: Site) -> tuple[bool, str]:
        plan, state = setup.check(site.project, site.session, site.found.passwords(site.project))
        site.out(f"{site.project.ssh.host}: {state.os_name}, Squid {state.squid_version or 'not installed'}")
        for step in plan.steps:
            site.out(f"  [{'change' if step.will_change else 'ok'}] {events.TITLES[step.name]}: {step.detail}")
        if plan.files:
            site.out(plan.diff().rstrip("\n"))
        site.out("check mode: nothing on the server was changed")
        verdict = "changes pending" if plan.changed else "the server is up to date"
        site.out(verdict)
        return True, verdict

    return sites.run(args, work)


def cmd_apply(args: argparse.Namespace) -> int:
    offline = None
    if args.bundle:  # loaded here only: an apply without one need not pay for the bundle code's start-up
        from core import bundle

        offline = bundle.load(args.bundle)  # a damaged bundle stops before any SSH
    several = len(args.project) > 1
    what = f"{len(args.project)} projects to their servers" if several else f"{args.project[0].name} to its server"
    if not several:
        can_confirm(args, f"Apply {what}?")  # the question itself comes with the diff, once connected
    elif not confirm(args, f"Apply {what}?"):  # once for all: sites run at once, not by turns
        raise CliError("nothing was changed")

    def work(site: Site) -> tuple[bool, str]:
        pw = site.found.passwords(site.project)
        if not args.yes and not several:
            plan, _ = setup.check(site.project, site.session, pw)
            if not plan.changed:
                site.out("the server is up to date; nothing to do")
                return True, "up to date"
            site.out(plan.diff().rstrip("\n") or "(no file changes)")
            if not confirm(args, f"Apply these changes to {site.project.ssh.host}?"):
                print("nothing was changed", file=sys.stderr)
                return False, "nothing was changed"
        outcome = setup.apply(site.project, site.session, pw, emit=lambda e: print_event(e, site.out), bundle=offline)
        verdict = "applied" if outcome.changed else "nothing changed"
        site.out(f"{verdict} in {outcome.seconds:.1f} s, {outcome.round_trips} SSH commands")
        return True, f"{verdict}, {outcome.round_trips} SSH commands"

    return sites.run(args, work)


def cmd_status(args: argparse.Namespace) -> int:
    def work(site: Site) -> tuple[bool, str]:
        project, out = site.project, site.out
        st = setup.status(site.session, with_log=args.sensors)
        s = st.state
        out(f"server:    {project.ssh.host} ({s.os_name}, {s.arch})")
        out(
            f"squid:     {s.squid_version or 'not installed'}; {'running' if s.running else 'stopped'}; "
            f"{'enabled' if s.enabled else 'not enabled'} at boot"
        )
        port = st.port or project.proxy.port
        listening = port in s.listening
        out(f"port:      {port} {'listening' if listening else 'NOT listening'}")
        out(f"backups:   {len(st.backups)}; last change {st.last_apply or 'never'}")
        squid = f"Squid {'running' if s.running else 'stopped'}, port {port} {'' if listening else 'NOT '}listening"
        if st.managed is None:
            out("sensors:   no sensorproxy rules on this server")
            return True, f"{squid}, no sensorproxy rules"
        out(f"sensors:   {len(st.managed.allowed())} allowed by the server")
        rows = st.compare(project)
        for row in rows:
            if not row.on_server:
                out(f"  {row.address:<40} in the project, NOT on the server")
            else:
                out(f"  {row.address:<40} {row.name}{'' if row.in_project else '   (not in the project)'}")
        for note in st.managed.notes:
            out(f"  note: {note}")
        if args.sensors:
            print_connections(project, st, out)
        missing = sum(not row.on_server for row in rows)
        return True, f"{squid}, {len(st.managed.allowed())} sensors allowed" + (
            f", {missing} of the project's NOT on the server" if missing else ""
        )

    return sites.run(args, work)


def print_connections(project: Project, st: setup.ServerStatus, out: Out) -> None:
    """Each sensor's state since the configuration changed, with its time; then clients not in the project."""
    rows, strangers = st.connections(project)
    snap = st.snapshot(rows)
    out(f"connections (the last {len(st.log)} lines of {accesslog.LOG_FILE}):")
    for act in rows:
        out(f"  {act.address:<24} {act.name:<24} {snap.state(act.address)[0]}")
    tunnelled = sum(act.tunnel is not None for act in rows)
    if st.since is None:
        out(f"  no sensor can connect now: {st.why_none}")
    else:
        changed = accesslog.at(st.since + st.offset)
        out(f"  {tunnelled} of {len(rows)} enabled sensors tunnelled through since the configuration changed {changed}")
    for act in strangers:
        entry = act.current or act.before
        assert entry is not None  # a client is listed because it has a line
        when = accesslog.span([act], st.offset)
        out(f"  not in the project: {act.address:<24} {entry.result:<30} {when:<14} {entry.url}")


def cmd_rollback(args: argparse.Namespace) -> int:
    what = "squid.conf.factory" if args.factory else "the Squid files from before the last change"
    _confirm_first(args, f"Put back {what} on the server of {args.project.name}?")

    def work(site: Site) -> tuple[bool, str]:
        outcome = setup.rollback(site.session, factory=args.factory, emit=lambda e: print_event(e, site.out))
        verdict = "rolled back" if outcome.changed else "nothing to roll back"
        site.out(verdict)
        return True, verdict

    return sites.run(args, work)


def cmd_remove(args: argparse.Namespace) -> int:
    _confirm_first(
        args, f"Remove sensorproxy's rules from the server of {args.project.name}? No sensor will get through"
    )

    def work(site: Site) -> tuple[bool, str]:
        outcome = setup.remove(site.session, emit=lambda e: print_event(e, site.out))
        verdict = "removed sensorproxy's rules" if outcome.changed else "no sensorproxy rules were on the server"
        site.out(verdict)
        return True, verdict

    return sites.run(args, work)


def cmd_check(args: argparse.Namespace) -> int:
    extra = tuple(args.host or ())
    for host in extra:
        if problem := domain_problem(host) if not host.startswith(".") else "a wildcard is not a host name":
            raise UsageError(f"--host {host}: {problem}")

    from core.remote import outbound  # the TLS checks' code (cryptography's x509), for this command only

    def work(site: Site) -> tuple[bool, str]:
        parent = site.project.proxy.parent
        passwords = {Kind.PARENT: site.found.secret(Kind.PARENT, site.project)} if parent and parent.user else {}
        result = outbound.check(site.session, site.project, extra, passwords)
        print_check(result, site.out)
        failed = len(result.failed)
        return result.ok, f"{len(result.endpoints) - failed} of {len(result.endpoints)} endpoints reached"

    return sites.run(args, work)


def print_check(result: outbound.CheckResult, out: Out = print) -> None:
    via = f" through the parent proxy {result.parent}" if result.parent else ""
    out(f"{result.server}: the way out to Azure{via}")
    width = max(len(e.host) for e in result.endpoints)
    for e in result.endpoints:
        timing = (
            f"dns {e.dns_ms} ms"
            + (f", tcp {e.tcp_ms} ms" if e.tcp else "")
            + (f", tls {e.tls_ms} ms" if e.tls_ms else "")
        )
        out(f"  [{'ok' if e.ok else 'FAIL'}] {e.host:<{width}}  {' '.join(e.addresses) or '-'}  ({timing})")
        out(f"         {e.verdict}")
    offset = result.clock_offset
    clock = f"the server's clock is {abs(offset):.1f} s {'behind' if offset > 0 else 'ahead of'} this computer's"
    out(f"clock: {result.clock_warning or clock}")
    failed = len(result.failed)
    out(f"checked {len(result.endpoints)} endpoints in {result.seconds:.1f} s: "
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
