"""Running a server command on one site, or on several at once (`--parallel N`).

One site talks to the terminal: its output as it comes, prompts for missing secrets, a question before
trusting a new host key. Several sites run each on its own connection and thread, with nobody to ask:
secrets come from the keyring or the environment, host keys from `--accept-host-key HOST=SHA256:…`, and
each site's output is kept and shown when it fails (or with --verbose). One line per site as it finishes,
then a table; the exit code is 1 if any site failed, and a failing site does not stop the others (an
apply that fails is rolled back on its own server, as always).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from cli.errors import UsageError, one_line
from cli.prompts import ask, secrets, warn
from core import credentials, projectfile
from core.model import Project, require_valid
from core.remote.errors import HostKeyUnknown, RemoteError
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession

Out = Callable[[str], None]


@dataclass
class Site:
    """What a command's work gets for one site: its project file and project, connection, secrets and
    where to write."""

    path: Path
    project: Project
    session: SshSession
    found: credentials.Secrets
    out: Out


Work = Callable[[Site], tuple[bool, str]]  # (ok, a few words for the site's line)


@dataclass
class Outcome:
    path: Path
    host: str = "-"
    ok: bool = False
    summary: str = ""
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)


def host_keys(values: list[str] | None, several: bool) -> Callable[[str], str | None]:
    """--accept-host-key values: `SHA256:…` (one site) or `HOST=SHA256:…` pairs (any number of sites)."""
    pairs: dict[str, str] = {}
    plain: str | None = None
    for value in values or []:
        host, sep, fingerprint = value.rpartition("=")
        if not fingerprint.startswith("SHA256:"):
            raise UsageError(
                f"--accept-host-key {value}: give SHA256:… or HOST=SHA256:… (as `ssh-keygen -lf` shows it)"
            )
        if not sep:
            if several:
                raise UsageError(f"--accept-host-key {value}: with several projects, say whose key it is: HOST={value}")
            plain = fingerprint
        else:
            pairs[host.strip("[]")] = fingerprint
    return lambda host: pairs.get(host, plain)


def connect(
    project: Project, found: credentials.Secrets, accept: str | None, *, confirm: bool, say: Out = warn
) -> SshSession:
    """Connect, asking for whatever secret the server turns out to need (again, when it refuses one), and
    for host-key trust (when `confirm`)."""
    while True:
        session = SshSession(project.ssh, KnownHosts.default(), found.login(project), accept_fingerprint=accept)
        try:
            session.connect()
            return session
        except HostKeyUnknown as exc:
            say(str(exc))
            if accept is not None or not confirm or not ask(f"Trust {exc.key_type} {exc.fingerprint}?"):
                raise
            accept = exc.fingerprint
        except RemoteError as exc:
            if not found.recover(exc, project):
                raise


def run(args: argparse.Namespace, work: Work) -> int:
    paths: list[Path] = args.project if isinstance(args.project, list) else [args.project]
    accept = host_keys(getattr(args, "accept_host_key", None), len(paths) > 1)
    if len(paths) == 1:
        return _one(args, paths[0], accept, work)
    return _several(args, paths, accept, work)


def _say(line: str) -> None:
    """One site's output, a line at a time even through a pipe (a fleet job's log follows the steps)."""
    print(line, flush=True)


def _one(args: argparse.Namespace, path: Path, accept: Callable[[str], str | None], work: Work) -> int:
    project = projectfile.load(path)
    require_valid(project)
    found = secrets(path)
    session = connect(project, found, accept(project.ssh.host), confirm=not getattr(args, "yes", False))
    try:
        ok, _ = work(Site(path, project, session, found, _say))
    finally:
        session.close()
    return 0 if ok else 1


def _site(path: Path, accept: Callable[[str], str | None], work: Work) -> Outcome:
    outcome = Outcome(path)
    start = time.monotonic()
    try:
        project = projectfile.load(path)
        outcome.host = project.ssh.host
        require_valid(project)
        found = credentials.Secrets(None, path=path, warn=outcome.lines.append)
        session = connect(project, found, accept(project.ssh.host), confirm=False, say=outcome.lines.append)
        try:
            outcome.ok, outcome.summary = work(Site(path, project, session, found, outcome.lines.append))
        finally:
            session.close()
    except Exception as exc:
        line = one_line(exc)
        if line is None:
            raise
        outcome.summary = line
    outcome.seconds = time.monotonic() - start
    return outcome


def _several(args: argparse.Namespace, paths: list[Path], accept: Callable[[str], str | None], work: Work) -> int:
    names = [str(p) for p in paths]
    if len(set(names)) != len(names):
        raise UsageError("a project is named twice; each site runs once")
    parallel = max(1, args.parallel)
    done: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="site") as pool:
        futures: list[Future[Outcome]] = [pool.submit(_site, path, accept, work) for path in paths]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                done.append(outcome)
                mark = "ok" if outcome.ok else "FAILED"
                print(
                    f"[{mark}] {outcome.path} ({outcome.host}, {outcome.seconds:.1f} s): {outcome.summary}", flush=True
                )
                if args.verbose or not outcome.ok:
                    for line in outcome.lines:
                        print(f"    {line}")
        except KeyboardInterrupt:
            warn("interrupted: sites not started are left alone; those running finish their step")
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    _table(sorted(done, key=lambda o: names.index(str(o.path))))
    return 0 if all(o.ok for o in done) else 1


def _table(outcomes: list[Outcome]) -> None:
    width = max(len(str(o.path)) for o in outcomes)
    host_width = max(len(o.host) for o in outcomes)
    print()
    print(f"{'project':<{width}}  {'server':<{host_width}}  result  {'time':>7}")
    for o in outcomes:
        print(f"{o.path!s:<{width}}  {o.host:<{host_width}}  {'ok' if o.ok else 'FAILED':<6}  {o.seconds:6.1f}s")
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes)} sites: {len(outcomes) - failed} ok, {failed} failed")
    sys.stdout.flush()
