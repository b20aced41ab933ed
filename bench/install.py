"""First install of Squid: from an offline bundle against apt with a warm cache (root; builds the lab).

Each run purges Squid, then applies a project that needs it installed. The baseline is the plain apt
route (apt-get update + install, with Squid's .debs already in apt's cache); the bundle route uploads
the bundle over SFTP, checks it and installs with apt from it alone, through an sshd in a namespace with
no route beyond the lab. Run as root: .venv/bin/python bench/install.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import row_s  # noqa: E402
from core import bundle_build  # noqa: E402
from core.remote import setup  # noqa: E402
from core.remote.hostkeys import KnownHosts  # noqa: E402
from core.remote.session import SshSession  # noqa: E402
from tests.archive_mirror import serve  # noqa: E402
from tests.lab.debian_mirror import DebianReplay  # noqa: E402
from tests.lab.lab import HOSTS, Lab, sh  # noqa: E402
from tests.lab.releases import CACHE  # noqa: E402

RUNS = 3
OFFLINE_PORT = 2225


def row(label: str, samples: list[float], base: list[float] | None = None) -> str:
    return row_s(label, samples, base, digits=2)


def purge(lab: Lab) -> None:
    lab.stop_squid()
    lab.kill_namespace("sp-offline")
    sh("apt-get", "purge", "-y", "-q", "squid", timeout=300)


def main() -> None:
    lab = Lab().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            known = KnownHosts(Path(tmp) / "known_hosts")
            fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
            with serve(CACHE, DebianReplay) as debian:  # Debian's own files, replayed on loopback
                offline = bundle_build.build(
                    Path(tmp) / "bundle", "bookworm", mirror=f"{debian.url}/debian",
                    security_mirror=f"{debian.url}/debian-security", cache=Path(tmp) / "cache",
                ).bundle  # fmt: skip
            project = lab.project("sp-s1")
            offline_target = replace(project.ssh, host=HOSTS["sp-offline"], port=OFFLINE_PORT)
            subprocess.run(["apt-get", "install", "--download-only", "-y", "-q", "squid"], check=True,
                           capture_output=True)  # fmt: skip  # the warm cache for the baseline
            apt_times, bundle_times = [], []
            for _ in range(RUNS):
                purge(lab)
                start = time.perf_counter()
                with lab.session(known) as session:
                    setup.apply(project, session, {})
                apt_times.append(time.perf_counter() - start)

                purge(lab)
                lab.start_sshd("bench-offline", OFFLINE_PORT, lab.tmp / "host_ed25519", netns="sp-offline")
                start = time.perf_counter()
                with SshSession(offline_target, known, {}, accept_fingerprint=fp) as session:
                    setup.apply(replace(project, ssh=offline_target), session, {}, bundle=offline)
                bundle_times.append(time.perf_counter() - start)
                lab.kill("bench-offline")
            purge(lab)
            sh("apt-get", "install", "-y", "-q", "squid", timeout=600)
            print(f"{'figure':<52} {'median':>9}")
            print(row("first apply, Squid from apt (warm cache; baseline)", apt_times))
            print(row(f"first apply, Squid from the bundle ({offline.size / 1e6:.0f} MB, no network)",
                      bundle_times, apt_times))  # fmt: skip
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
