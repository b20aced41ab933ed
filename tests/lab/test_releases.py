"""The whole cycle against real servers of other Debian releases, each in its own namespace: bullseye
(Squid 4.13) and trixie (Squid 6.x), beside the machine's own bookworm (Squid 5.7) that the rest of the
lab uses. First apply with the install, curl from the sensors (listed 200, unlisted 403, wrong password
407, right password 200, over IPv4 and IPv6), an unchanged re-apply, rollback and remove."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from core import squid
from core.model import Sensor
from core.remote import setup
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.secret_kind import Kind
from tests.lab.lab import HOSTS, Lab, v6
from tests.lab.releases import SERVERS, SQUID, release_server
from tests.lab.test_apply import ALLOWED, AUTH, DENIED, codes

pytestmark = pytest.mark.lab
PASSWORD = "Release-proxy-Secret-31"
GOLDEN = Path(__file__).parents[1] / "unit" / "golden"


def parse_each(session: SshSession, files: list[Path]) -> list[tuple[str, str]]:
    remote = session.upload(files)
    out = []
    for f in files:
        parsed = session.run(f"squid -k parse -f {remote}/{f.name}")
        assert parsed.ok, f"{f.name}: {parsed.stdout[-1000:]}{parsed.stderr[-1000:]}"
        out.append((f.name, parsed.stdout + parsed.stderr))
    return out


@pytest.mark.parametrize("release", list(SERVERS))
def test_the_whole_cycle_on_each_release(lab: Lab, release: str, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    with release_server(lab, release) as ip:
        target = replace(lab.target(), host=ip, port=22)
        base = replace(lab.project(auth_enabled=True, auth_user="sensors"), ssh=target, site=f"Lab {release}")
        project = replace(base, sensors=(Sensor("Boiler", HOSTS["sp-s1"]), Sensor("Substation", v6(HOSTS["sp-s3"]))))

        def session() -> SshSession:
            return SshSession(target, known, {}, accept_fingerprint=fingerprint)

        def run(work):
            with session() as s:
                return work(s)

        state = run(lambda s: setup.probe(s, squid.SquidLayout()))
        assert state.squid_version is None  # a first apply installs it
        first = run(lambda s: setup.apply(project, s, {Kind.PROXY: PASSWORD}))
        assert first.changed
        state = run(lambda s: setup.probe(s, squid.SquidLayout()))
        assert (state.squid_version or "").startswith(SQUID[release]), state.squid_version
        assert state.ncsa_helper == "/usr/lib/squid/basic_ncsa_auth"
        assert "bcrypt" in state.hash_schemes
        assert first.plan.scheme == "bcrypt"

        def curl(ns: str, password: str | None = PASSWORD, *, over_v6: bool = False) -> tuple[int, int]:
            login = f"sensors:{password}" if password else None
            return codes(lab.curl(ns, credentials=login, proxy_ip=v6(ip) if over_v6 else ip))

        assert curl("sp-s1") == ALLOWED
        assert curl("sp-s1", "Wrong-password") == AUTH
        assert curl("sp-s2") == DENIED  # not listed
        assert curl("sp-s3", over_v6=True) == ALLOWED  # listed by its IPv6 address
        assert curl("sp-s3") == DENIED  # …and only by that one

        # Ubuntu 18.04's layout (its Squid 3.5 cannot run here): the golden renders of its stock squid.conf
        # with the marked block parse with this release's Squid.
        blocks = [GOLDEN / f"block-{variant}.conf" for variant in ("default", "auth", "parent-nologin")]
        for name, parsed in run(lambda s: parse_each(s, blocks)):
            assert not re.search("FATAL|Bungled", parsed), f"{name}: {parsed[-2000:]}"

        again = run(lambda s: setup.apply(project, s, {Kind.PROXY: PASSWORD}))
        assert not again.changed

        rolled = run(lambda s: setup.rollback(s))  # back to before the first apply: no rules
        assert rolled.changed
        assert curl("sp-s1") == DENIED

        run(lambda s: setup.apply(project, s, {Kind.PROXY: PASSWORD}))
        assert curl("sp-s1") == ALLOWED
        removed = run(lambda s: setup.remove(s))
        assert removed.changed
        assert curl("sp-s1") == DENIED
        assert run(lambda s: setup.status(s)).managed is None
