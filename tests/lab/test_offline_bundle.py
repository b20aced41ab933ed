"""Offline bundles end to end: made on this machine (bookworm) with `sensorproxy bundle` for bullseye and
trixie, from Debian's own signed files served on loopback, and applied to a server of each release whose
namespace reaches no repository and has no Squid; the sensors tunnel through it and dpkg is clean. Tampered
files and a bad signature are refused by name, and a server with no repository in reach is told, in one
sentence, to use a bundle.

Debian's archive is replayed on loopback (tests/lab/debian_mirror.py): sensorproxy itself only talks to
127.0.0.1."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from core import bundle, squid
from core.remote import setup
from core.remote.errors import RepositoryUnreachable
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from tests.archive_mirror import Server, serve
from tests.lab.debian_mirror import DebianReplay
from tests.lab.lab import Lab, sh
from tests.lab.releases import CACHE, SERVERS, SQUID, chroot, release_server
from tests.lab.test_apply import ALLOWED, DENIED, codes
from tests.lab.test_cli import cli

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def debian(tmp_path_factory):
    """The replay, its cache filled as set-up: every file the tests' bundles need is fetched from Debian
    here (a bundle run resumes what a dropped connection cut), so no test waits on Debian's network."""
    scratch = tmp_path_factory.mktemp("warm")
    with serve(CACHE, DebianReplay) as server:
        for release in ("bullseye", "trixie"):
            for _ in range(3):
                run = make_bundle(scratch, server, release)
                if run.returncode == 0:
                    break
            else:
                pytest.fail(f"set-up: Debian's archive did not serve {release}'s files: {run.stderr}")
        yield server


def make_bundle(tmp: Path, debian: Server, release: str, *extra: str):
    # This machine's Debian mirror no longer carries bullseye-security's packages (Debian 11's LTS ended
    # in August 2026): that bundle is made without it, as the command's own hint says.
    security = ["--no-security"] if release == "bullseye" else ["--security-mirror", f"{debian.url}/debian-security"]
    return cli(tmp, "bundle", str(tmp / release), "--release", release, "--mirror", f"{debian.url}/debian", *security,
               *extra)  # fmt: skip


def without_repository(lab: Lab, release: str) -> Path:
    """The server's root with no package source at all: the lab's local repository is gone too."""
    root = lab.tmp / f"{release}-root"
    shutil.rmtree(root / "srv" / "repo")
    (root / "etc" / "apt" / "sources.list").write_text("")
    return root


@pytest.mark.parametrize("release", ["bullseye", "trixie"])
def test_a_bundle_made_here_installs_squid_where_no_repository_is_in_reach(lab: Lab, tmp_path, debian, release):
    built = make_bundle(tmp_path, debian, release)
    assert built.returncode == 0, built.stderr
    assert f"for Debian {'11' if release == 'bullseye' else '13'} {release} (amd64)" in built.stdout
    assert "verified: signed by Debian" in built.stdout
    offline = bundle.load(tmp_path / release)
    assert any(p.name == "squid" and p.version.startswith(SQUID[release]) for p in offline.packages)
    assert not [p for p, _ in debian.asked if not p.startswith(("debian/", "debian-security/"))]

    known = KnownHosts(tmp_path / "known_hosts")
    fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    with release_server(lab, release) as ip:
        root = without_repository(lab, release)
        assert not (root / "usr/sbin/squid").exists()
        assert "default" not in sh("ip", "-n", SERVERS[release], "route").stdout  # it reaches the lab only
        target = replace(lab.target(), host=ip, port=22)
        project = replace(lab.project("sp-s1"), ssh=target, site=f"Offline {release}")
        with SshSession(target, known, {}, accept_fingerprint=fingerprint) as session:
            outcome = setup.apply(project, session, {}, bundle=offline)
            state = setup.probe(session, squid.SquidLayout())
        assert outcome.changed
        assert (state.squid_version or "").startswith(SQUID[release])
        assert codes(lab.curl("sp-s1", proxy_ip=ip)) == ALLOWED
        assert codes(lab.curl("sp-s2", proxy_ip=ip)) == DENIED
        audit = chroot(root, "dpkg --audit && apt-get check -q=2")
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert audit.stdout.strip() == ""  # dpkg --audit: nothing half-installed or unconfigured
        assert not list((root / "var/cache").glob("sensorproxy-bundle.*"))


def test_a_server_of_another_release_refuses_the_bundle_before_installing(lab: Lab, tmp_path, debian):
    built = make_bundle(tmp_path, debian, "bullseye")
    assert built.returncode == 0, built.stderr
    known = KnownHosts(tmp_path / "known_hosts")
    with release_server(lab, "trixie") as ip:
        root = without_repository(lab, "trixie")
        target = replace(lab.target(), host=ip, port=22)
        project = replace(lab.project("sp-s1"), ssh=target)
        with SshSession(target, known, {}, accept_fingerprint=lab.fingerprint(lab.tmp / "host_ed25519.pub")) as s:
            with pytest.raises(Exception, match="the bundle is for Debian 11 bullseye") as info:
                setup.apply(project, s, {}, bundle=bundle.load(tmp_path / "bullseye"))
            assert not any(c.startswith("sftp: put") for c in s.commands)
        assert "the server runs Debian 13 trixie (amd64): make one with `sensorproxy bundle DIR --release trixie" in (
            str(info.value)
        )
        assert not (root / "usr/sbin/squid").exists()


@pytest.mark.parametrize("what", ["deb", "index", "signature"])
def test_tampered_files_and_a_bad_signature_are_refused_by_name(tmp_path, debian, what):
    if what == "deb":  # squid's own .deb, whatever its version is today
        (tmp_path / "good").mkdir()
        debian.asked.clear()  # the module's other tests asked for other releases' squid
        assert make_bundle(tmp_path / "good", debian, "trixie").returncode == 0
        path = next(p for p, _ in debian.asked if "/s/squid/squid_" in p and p.endswith(".deb"))
        debian.replaced[path] = (debian.source(path) or b"")[:-1] + b"!"
    elif what == "index":  # another suite's index in its place
        path = "debian/dists/trixie/main/binary-amd64/Packages.xz"
        debian.replaced[path] = debian.source(path.replace("trixie", "trixie-updates")) or b""
    else:
        path = "debian/dists/trixie/InRelease"
        debian.replaced[path] = (debian.source(path) or b"").replace(b"Codename: trixie", b"Codename: trixiE")
    try:
        refused = make_bundle(tmp_path, debian, "trixie")
    finally:
        debian.replaced.clear()
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"sensorproxy: {path.split('/', 1)[1]} "), refused.stderr
    said = "is not signed by the archive's keys" if what == "signature" else "does not match the SHA-256"
    assert said in refused.stderr
    assert not (tmp_path / "trixie").exists()  # nothing is kept


def test_a_server_that_reaches_no_repository_is_told_to_use_a_bundle(lab: Lab, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    with release_server(lab, "bullseye") as ip:
        root = without_repository(lab, "bullseye")
        # Its own mirror, as a site's server has; the name cannot resolve (no resolver answers on its loopback),
        # so no query leaves the namespace.
        (root / "etc/apt/sources.list").write_text("deb http://deb.debian.org/debian bullseye main\n")
        (root / "etc/resolv.conf").write_text("nameserver 127.0.0.1\n")
        target = replace(lab.target(), host=ip, port=22)
        project = replace(lab.project("sp-s1"), ssh=target)
        fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
        with (
            SshSession(target, known, {}, accept_fingerprint=fingerprint) as s,
            pytest.raises(RepositoryUnreachable) as info,
        ):
            setup.apply(project, s, {})
        assert str(info.value) == (
            f"the bullseye server {ip} cannot reach its package repository (the mirror's name does not resolve): "
            "make a bundle with `sensorproxy bundle --release bullseye` and apply with `--bundle`"
        )
        assert not (root / "usr/sbin/squid").exists()
        assert not (root / "etc/squid").exists()  # nothing was changed
