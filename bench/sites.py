#!/usr/bin/env python3
"""Whole `sensorproxy` commands against the lab's fleet (root): what a terminal or a fleet job waits for.

- one site: `sensorproxy apply` changing one sensor, and an unchanged re-apply, each as a whole process,
  against `ssh` + a shell script writing the same files on the same server, timed in turns;
- the same with the server's login shell made slow (root's .bashrc sleeps 0.15 s, as heavy ones do): every
  SSH exec pays it, so the number of execs shows;
- twenty sites (overlay copies of one trixie root, each in its own namespace with its own sshd and Squid):
  `sensorproxy apply P1 … P20 --parallel 8` against the twenty applies one after the other, each its own
  `sensorproxy apply` process, as a loop in a shell script would run them; and `ansible-playbook` of the
  same sites exported with `sensorproxy export-ansible`, with forks=8.
Run as root: .venv/bin/python bench/sites.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.apply import shell_script  # noqa: E402
from bench.measure import row_s as row  # noqa: E402
from core import projectfile  # noqa: E402
from core.remote.hostkeys import KnownHosts  # noqa: E402
from tests.lab.fleet import fleet, site_file  # noqa: E402
from tests.lab.lab import Lab  # noqa: E402
from tests.lab.test_ansible import changed, playbook  # noqa: E402

RUNS = 5
SITES, PARALLEL = 20, 8


def main() -> None:
    lab = Lab().start()
    try:
        with tempfile.TemporaryDirectory() as tmp, fleet(lab, SITES) as addresses:
            home = Path(tmp)
            env = {
                "PATH": os.environ["PATH"], "HOME": tmp, "SENSORPROXY_CONFIG_DIR": f"{tmp}/config",
                "SENSORPROXY_LOG_DIR": f"{tmp}/log", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            }  # fmt: skip
            known = KnownHosts(home / "config" / "known_hosts")
            ssh_known = home / "ssh_known"
            ssh_known.write_text(
                "".join(f"{ip} {lab.host_key().get_name()} {lab.host_key().get_base64()}\n" for ip in addresses)
            )
            for ip in addresses:
                known.pin(ip, lab.host_key())
            sensorproxy = str(Path(sys.executable).with_name("sensorproxy"))

            def variants(ip: str, n: int) -> list[Path]:
                """Two versions of site n's project: one sensor, and that sensor with a second one."""
                paths = []
                for v, names in enumerate((("sp-s1",), ("sp-s1", "sp-s2"))):
                    project = replace(lab.project(*names), site=f"Site {n}")
                    paths.append(site_file(home / f"site{n}-{v}.toml", project, ip))
                return paths

            sites = [variants(ip, n) for n, ip in enumerate(addresses, start=1)]

            def apply(*paths: Path, parallel: int = 1) -> None:
                argv = [sensorproxy, "apply", *map(str, paths), "--yes"]
                if len(paths) > 1:
                    argv += ["--parallel", str(parallel)]
                done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

            apply(*(s[0] for s in sites), parallel=PARALLEL)  # starts every Squid: not measured
            one, first = sites[0], addresses[0]
            ssh = ["ssh", "-q", "-i", str(lab.client_key), "-o", "BatchMode=yes", "-o",
                   f"UserKnownHostsFile={ssh_known}", f"root@{first}", "sh -s"]  # fmt: skip
            scripts = [shell_script(projectfile.load(p)) for p in one]

            def one_site() -> tuple[list[float], list[float], list[float]]:
                shell, changed_, unchanged = [], [], []
                for i in range(RUNS):
                    start = time.perf_counter()
                    subprocess.run(ssh, input=scripts[i % 2], text=True, check=True, capture_output=True, timeout=120)
                    shell.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    apply(one[(i + 1) % 2])
                    changed_.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    apply(one[(i + 1) % 2])
                    unchanged.append(time.perf_counter() - start)
                apply(one[0])
                return shell, changed_, unchanged

            fast = one_site()
            bashrc = lab.tmp / "fleet" / "1" / "root" / "root" / ".bashrc"
            kept = bashrc.read_text()
            bashrc.write_text("sleep 0.15  # a heavy login shell\n" + kept)
            slow = one_site()
            bashrc.write_text(kept)

            # The same twenty sites handed over to Ansible (not timed: the export reads every server).
            exports = []
            for version in (0, 1):
                folder = home / f"ansible-{version}"
                argv = [sensorproxy, "export-ansible", *(str(s[version]) for s in sites), str(folder)]
                done = subprocess.run([*argv, "--parallel", str(PARALLEL)], env=env, capture_output=True, text=True)
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
                exports.append(folder)
            control = Path(tempfile.mkdtemp(prefix="spa-", dir="/tmp"))  # ssh's sockets: a short path

            together, one_by_one, ansible = [], [], []
            current = 0  # the version every server has
            for _ in range(3):
                start = time.perf_counter()
                apply(*(s[1 - current] for s in sites), parallel=PARALLEL)
                together.append(time.perf_counter() - start)
                current = 1 - current
                start = time.perf_counter()
                for s in sites:
                    apply(s[1 - current])
                one_by_one.append(time.perf_counter() - start)
                current = 1 - current
                start = time.perf_counter()
                run = playbook(exports[1 - current], control, "--forks", str(PARALLEL))
                ansible.append(time.perf_counter() - start)
                assert all(n > 0 for n in changed(run).values())  # it did change every site
                current = 1 - current
            shutil.rmtree(control, ignore_errors=True)
    finally:
        lab.stop()
    shell, changed_, unchanged = fast
    print(f"whole commands against trixie servers of the lab's fleet, median of {RUNS} (3 for twenty sites)")
    print(row("ssh + shell script writing the same files", shell))
    print(row("sensorproxy apply, one sensor changed (target <= 1.3x)", changed_, shell))
    print(row("sensorproxy apply, nothing changed (target <= 0.6x)", unchanged, shell))
    shell, changed_, unchanged = slow
    print("the same, the login shell's .bashrc sleeping 0.15 s")
    print(row("ssh + shell script writing the same files", shell))
    print(row("sensorproxy apply, one sensor changed", changed_, shell))
    print(row("sensorproxy apply, nothing changed", unchanged, shell))
    print(row(f"{SITES} sites, sensorproxy apply one after the other", one_by_one))
    print(row(f"{SITES} sites, apply --parallel {PARALLEL} (target <= 0.25x)", together, one_by_one))
    print(row(f"{SITES} sites, ansible-playbook of the export, forks={PARALLEL}", ansible, one_by_one))
    print(row(f"{SITES} sites, apply --parallel {PARALLEL} against that playbook", together, ansible))


if __name__ == "__main__":
    main()
