"""Squid from a package bundle on a server that reaches no package repository: the bundle is built on
this machine (apt's download-only mode, while the registry is still in reach), Squid is purged, and an
sshd inside a namespace with no route beyond the lab installs it and applies the project."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from core import bundle
from core.remote import setup
from core.remote.events import LogEvent, Status, StepEvent
from core.remote.session import SshSession
from tests.lab.lab import HOSTS, Lab, sh
from tests.lab.test_apply import ALLOWED, DENIED, codes
from tests.lab.test_cli import cli

pytestmark = pytest.mark.lab
OFFLINE_PORT = 2223


def test_bundle_installs_squid_without_any_network(lab: Lab, known_hosts, tmp_path: Path):
    folder = tmp_path / "bundle"
    built = cli(tmp_path, "bundle", str(folder))
    assert built.returncode == 0, built.stderr
    assert "packages" in built.stdout
    archive = Path(shutil.make_archive(str(tmp_path / "bundle"), "zip", folder))
    offline = bundle.load(archive)  # checksums are checked here too
    assert any(p.name == "squid" for p in offline.packages)

    routes = sh("ip", "-n", "sp-offline", "route").stdout
    assert "default" not in routes  # the server's namespace reaches the lab subnet and nothing else
    assert routes.strip().startswith("172.30.77.0/24")

    lab.stop_squid()  # Squid will run in the offline server's namespace; none may be left in this one
    subprocess.run(
        ["apt-get", "purge", "-y", "-q", "squid"],
        check=True, capture_output=True, timeout=300,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )  # fmt: skip
    assert not Path("/usr/sbin/squid").exists()
    lab.start_sshd("offline-sshd", OFFLINE_PORT, lab.tmp / "host_ed25519", netns="sp-offline")
    try:
        target = replace(lab.target(), host=HOSTS["sp-offline"], port=OFFLINE_PORT)
        fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
        project = replace(lab.project("sp-s1"), ssh=target)
        events: list = []
        with SshSession(target, known_hosts, {}, accept_fingerprint=fp) as session:
            outcome = setup.apply(project, session, {}, emit=events.append, bundle=offline)
        assert outcome.changed
        install = [e for e in events if isinstance(e, StepEvent) and e.step == "install"]
        assert install[-1].status is Status.CHANGED
        logs = [e.line for e in events if isinstance(e, LogEvent) and e.step == "install"]
        assert any("from the bundle; nothing is downloaded" in line for line in logs), logs
        assert Path("/usr/sbin/squid").exists()
        assert any(c.startswith("sftp: put") for c in session.commands)
        # Squid now runs in the offline server's namespace, on its address.
        assert codes(lab.curl("sp-s1", proxy_ip=HOSTS["sp-offline"])) == ALLOWED
        assert codes(lab.curl("sp-s2", proxy_ip=HOSTS["sp-offline"])) == DENIED
        assert not list(Path("/var/cache").glob("sensorproxy-bundle.*"))
        assert not list(Path("/tmp").glob("sensorproxy-upload-*"))
    finally:
        lab.stop_squid()  # the next test starts it again in the server's own namespace
        lab.kill("offline-sshd")
        lab.kill_namespace("sp-offline")
