"""Apply against the lab (root): sensorproxy vs a plain `ssh` + shell script doing the same steps.

Figures: a changed apply and an unchanged re-apply, each the median of several runs with min and max,
and the SSH commands sensorproxy sends per apply. Run as root: .venv/bin/python bench/apply.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import row_s as row  # noqa: E402
from core import squid  # noqa: E402
from core.remote import setup  # noqa: E402
from core.remote.hostkeys import KnownHosts  # noqa: E402
from core.secret_kind import Kind  # noqa: E402
from tests.lab.lab import SERVER_IP, SSH_PORT, Lab  # noqa: E402

RUNS = 5

# What a careful admin's script does: back up, write each file, parse, reconfigure (or start), wait for
# the port.
SHELL_WRITE = r"""
cp -p @PATH@ /var/backups/sensorproxy-bench/ 2>/dev/null || true
t=$(mktemp "$(dirname @PATH@)/.bench.XXXXXX")
cat > "$t" <<'EOF_BENCH'
@CONTENT@EOF_BENCH
chown root:@GROUP@ "$t"; chmod @MODE@ "$t"; mv -f "$t" @PATH@
"""
SHELL_ACTIVATE = r"""
squid -k parse >/dev/null 2>&1
if squid -k check 2>/dev/null; then squid -k reconfigure; else service squid start >/dev/null; fi
i=0
while ! awk '$4 == "0A" && $2 ~ /:0C38$/ { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6; do
  i=$((i + 1)); [ $i -lt 60 ] || exit 1; sleep 0.25
done
"""


def shell_script(project) -> str:
    """The plain script for the same files sensorproxy writes (the rules and the sensor list)."""
    out = ["set -e", "mkdir -p /var/backups/sensorproxy-bench"]
    for f in squid.render(project, squid.stock_conf()).files:
        out.append(
            SHELL_WRITE.replace("@PATH@", f.path)
            .replace("@CONTENT@", f.content)
            .replace("@GROUP@", f.group)
            .replace("@MODE@", f"{f.mode:04o}")
        )
    return "\n".join(out) + SHELL_ACTIVATE


def main() -> None:
    lab = Lab().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            known = KnownHosts(Path(tmp) / "known_hosts")
            projects = [lab.project("sp-s1"), lab.project("sp-s1", "sp-s2")]

            def run_apply(project) -> setup.Outcome:
                with lab.session(known) as session:
                    return setup.apply(project, session, {})

            run_apply(projects[0])  # installs nothing, but starts Squid: not measured
            shell_times, changed, unchanged, trips = [], [], [], []
            ssh = [
                "ssh",
                "-q",
                "-i",
                str(lab.client_key),
                "-p",
                str(SSH_PORT),
                "-o",
                "BatchMode=yes",
                "-o",
                f"UserKnownHostsFile={tmp}/ssh_known",
                "-o",
                "StrictHostKeyChecking=accept-new",
                f"root@{SERVER_IP}",
                "sh -s",
            ]
            for i in range(RUNS):
                script = shell_script(projects[i % 2])
                start = time.perf_counter()
                subprocess.run(
                    ssh,
                    input=script,
                    text=True,
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                shell_times.append(time.perf_counter() - start)

                start = time.perf_counter()
                outcome = run_apply(projects[(i + 1) % 2])
                changed.append(time.perf_counter() - start)
                assert outcome.changed
                trips.append(outcome.round_trips)

                start = time.perf_counter()
                assert not run_apply(projects[(i + 1) % 2]).changed
                unchanged.append(time.perf_counter() - start)
            # With a proxy login: the probe learns the hash schemes in its own round trip, and verify asks
            # the server's helper inside the transaction, so the SSH commands stay the same.
            logins = [lab.project(*names, auth_enabled=True, auth_user="bench") for names in (["sp-s1"], ["sp-s2"])]

            def run_login(project) -> setup.Outcome:
                with lab.session(known) as session:
                    return setup.apply(project, session, {Kind.PROXY: "Bench-proxy-pass-1"})

            run_login(logins[0])
            with_login, login_trips = [], []
            for i in range(RUNS):
                start = time.perf_counter()
                outcome = run_login(logins[(i + 1) % 2])
                with_login.append(time.perf_counter() - start)
                assert outcome.changed
                login_trips.append(outcome.round_trips)
            print(f"{'figure':<52} {'median':>9}")
            print(row("ssh + shell script, changed config (baseline)", shell_times))
            print(row("sensorproxy apply, changed config", changed, shell_times))
            print(row("sensorproxy apply, unchanged re-apply", unchanged, shell_times))
            print(row("sensorproxy apply, changed, proxy login verified", with_login, shell_times))
            print(f"SSH commands per changed apply: {statistics.median(trips):.0f} (one connection)")
            print(f"SSH commands per changed apply with a proxy login: {statistics.median(login_trips):.0f}")
            subprocess.run(["rm", "-rf", "/var/backups/sensorproxy-bench"], check=False)
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
