"""Making an offline bundle for bullseye with a warm download cache, as a whole `sensorproxy bundle`
command, against `apt-get download` of the same packages in the same run (root; apt lists already
updated). Both read Debian's own signed files from the same loopback replay of its archive
(tests/lab/debian_mirror.py), so neither waits on the internet; each run of apt downloads every .deb
again, as `apt-get download` does, while sensorproxy's cache already holds them.

sensorproxy's run still fetches and verifies each suite's InRelease, checks the cached Packages index
and every cached .deb by SHA-256, decompresses and reads the index, resolves the closure and writes the
bundle. Run: .venv/bin/python bench/bundle.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import row_ms, timed_together  # noqa: E402
from tests.archive_mirror import serve  # noqa: E402
from tests.lab.debian_mirror import DebianReplay  # noqa: E402
from tests.lab.releases import CACHE  # noqa: E402

RUNS = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, serve(CACHE, DebianReplay) as mirror:
        work = Path(tmp)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": tmp, "SENSORPROXY_CONFIG_DIR": f"{tmp}/config",
               "SENSORPROXY_LOG_DIR": f"{tmp}/log", "SENSORPROXY_CACHE_DIR": f"{tmp}/cache"}  # fmt: skip
        ours = [sys.executable, "-m", "cli", "bundle", f"{tmp}/bundle", "--release", "bullseye",
                "--mirror", f"{mirror.url}/debian", "--no-security"]  # fmt: skip
        subprocess.run(ours, cwd=ROOT, env=env, check=True, capture_output=True)  # warms the cache
        names = [p["name"] for p in json.loads((work / "bundle" / "bundle.json").read_text())["packages"]]

        # apt for bullseye, in a directory of its own: Debian's keys, its own lists, updated once.
        apt = work / "apt"
        for d in ("lists/partial", "archives/partial", "etc/preferences.d", "etc/apt.conf.d", "dl"):
            (apt / d).mkdir(parents=True)
        (apt / "status").write_text("")
        (apt / "sources.list").write_text(
            f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror.url}/debian bullseye "
            f"bullseye-updates main\n"
        )
        options = [f"-oDir::State::Lists={apt}/lists", f"-oDir::State::status={apt}/status",
                   f"-oDir::Cache={apt}", f"-oDir::Etc::SourceList={apt}/sources.list",
                   "-oDir::Etc::SourceParts=/nonexistent", f"-oDir::Etc::Preferences={apt}/etc/preferences",
                   f"-oDir::Etc::PreferencesParts={apt}/etc/preferences.d", "-oDebug::NoLocking=1",
                   "-oAPT::Architecture=amd64", "-oAPT::Sandbox::User=root"]  # fmt: skip
        subprocess.run(["apt-get", *options, "update", "-qq"], check=True, capture_output=True)
        download = ["apt-get", *options, "download", "-qq", *names]

        def sensorproxy() -> None:
            subprocess.run(ours, cwd=ROOT, env=env, check=True, capture_output=True)

        def apt_download() -> None:
            for old in (apt / "dl").iterdir():
                old.unlink()
            subprocess.run(download, cwd=apt / "dl", check=True, capture_output=True)

        times = timed_together({"apt": apt_download, "ours": sensorproxy}, RUNS)
        assert sorted(p.name for p in (apt / "dl").iterdir()) == sorted(
            p.name for p in (work / "bundle").glob("*.deb")
        ), "apt-get download fetched other files than the bundle holds"
        print(f"{'figure':<58} {'median':>12}")
        print(row_ms(f"apt-get download of the same {len(names)} packages (baseline)", times["apt"]))
        print(row_ms("sensorproxy bundle --release bullseye, warm cache", times["ours"], times["apt"]))


if __name__ == "__main__":
    main()
