"""`sensorproxy check` against the lab (root), from a trixie server in its own namespace.

Figures, each the median of several runs with min and max, over one open SSH connection:
- the whole check of three reachable endpoints (DNS, TCP, TLS each, all at once) against the baseline of
  one `openssl s_client` handshake to one of them, sent the same way: the check should cost at most
  about two handshakes, however many endpoints there are;
- the same pair with the cloud answering each handshake after 100 ms, as a distant endpoint does: the
  lab's own handshakes are a few ms of CPU, so the first pair weighs process start-up on the server;
- the same check with an endpoint that never answers added, against the step timeout: the unreachable
  endpoint should cost its timeout once, not once per step.
Run as root: .venv/bin/python bench/check.py
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import row_s as row  # noqa: E402
from bench.measure import timed, timed_together  # noqa: E402
from core.remote import outbound  # noqa: E402
from core.remote.hostkeys import KnownHosts  # noqa: E402
from core.remote.session import SshSession  # noqa: E402
from tests.lab.lab import FILTERED, INSPECTED, Lab  # noqa: E402
from tests.lab.releases import release_server  # noqa: E402

RUNS = 7
WAN_DELAY = 0.1  # seconds the lab cloud waits before each handshake in the second pair of rows
REACHABLE = ("hub.azure-devices.net", "blocked.example.net", INSPECTED)


def main() -> int:
    lab = Lab().start()
    try:
        return measure(lab)
    finally:
        lab.stop()


def measure(lab: Lab) -> int:
    with tempfile.TemporaryDirectory() as tmp, release_server(lab, "trixie") as ip:
        target = replace(lab.target(), host=ip, port=22)
        base = lab.project("sp-s1")
        project = replace(base, ssh=target, proxy=replace(base.proxy, allowlist_enabled=False, endpoints=REACHABLE))
        known = KnownHosts(Path(tmp) / "known_hosts")
        fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
        with SshSession(target, known, {}, accept_fingerprint=fingerprint) as session:
            session.connect()
            handshake = (
                "openssl s_client -connect hub.azure-devices.net:443 -servername hub.azure-devices.net </dev/null"
            )

            def one() -> None:
                session.check(session.script(handshake + " >/dev/null 2>&1\n"), "one handshake")

            def whole() -> None:
                outbound.check(session, project)

            samples = timed_together({"one": one, "whole": whole}, runs=RUNS)
            lab.cloud_delay.write_text(str(WAN_DELAY))  # each handshake now waits, as a distant endpoint's does
            far = timed_together({"one": one, "whole": whole}, runs=RUNS)
            lab.cloud_delay.write_text("")
            with_filtered = replace(project, proxy=replace(project.proxy, endpoints=(*REACHABLE, FILTERED)))
            filtered = timed(lambda: outbound.check(session, with_filtered), runs=3)
            result = outbound.check(session, project)
        print(f"{'figure':<52} {'median':>9}")
        print(row("one TLS handshake from the server (baseline)", samples["one"]))
        print(row(f"check, {len(result.endpoints)} endpoints at once", samples["whole"], samples["one"]))
        ms = int(WAN_DELAY * 1000)
        print(row(f"one TLS handshake, endpoint {ms} ms away (baseline)", far["one"]))
        print(row(f"check, {len(result.endpoints)} endpoints {ms} ms away, at once", far["whole"], far["one"]))
        print(row("step timeout (baseline)", [float(outbound.LIMIT)]))
        print(row("check with an endpoint that never answers", filtered, [float(outbound.LIMIT)]))
        print(f"SSH commands per check: 1; endpoints that passed the lab run: {sum(e.ok for e in result.endpoints)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
