"""Validate + render 10,000 sensors, and `squid -k parse` of that config against the stock config alone.

Each figure is the median of several runs, printed with min and max and as a ratio to a baseline
measured in the same run. Run: .venv/bin/python bench/render.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import forget_validation, timed, timed_together  # noqa: E402
from bench.measure import row_ms as row  # noqa: E402
from core import squid  # noqa: E402
from core.model import Project, ProxySettings, Sensor, SshTarget, validate  # noqa: E402
from tests.squidparse import parse, server_dir, write_rendered  # noqa: E402


def main() -> None:
    sensors = tuple(Sensor(f"Sensor {i}", f"10.{i // 250}.{i % 250}.1") for i in range(10_000))
    project = Project("Bench", SshTarget("192.0.2.1", "root"), ProxySettings(), sensors)
    one = Project("Bench", SshTarget("192.0.2.1", "root"), ProxySettings(), sensors[:1])
    stock = (ROOT / "core" / "data" / "debian-12.conf").read_text()
    print(f"{'figure':<58} {'median':>12}")

    base = timed(lambda: squid.render(one, stock), setup=forget_validation)
    print(row("validate + render, 1 sensor (baseline)", base))
    print(
        row(
            "validate + render, 10,000 sensors, first time",
            timed(lambda: squid.render(project, stock), setup=forget_validation),
            base,
        )
    )
    first = timed(lambda: validate(project), setup=forget_validation)
    print(row("validate only, 10,000 sensors, first time", first, base))
    print(row("validate again after one edit (what the table does)", timed(lambda: validate(project)), base))

    squid_bin = shutil.which("squid") or "/usr/sbin/squid"
    with tempfile.TemporaryDirectory() as tmp:
        stock_layout = server_dir(Path(tmp) / "stock")
        big = server_dir(Path(tmp) / "big")
        write_rendered(project, big, squid_bin)

        def parsed(layout: squid.SquidLayout) -> None:  # a refused config stops early: never time that
            result = parse(layout, squid_bin)
            assert result.returncode == 0, result.output[-2000:]
            assert not result.problems(), result.problems()

        # Each parse takes some 15 ms, so a burst of load moves one figure: many runs, in turns.
        runs = timed_together({"stock": lambda: parsed(stock_layout), "big": lambda: parsed(big)}, runs=21)
        print(row("squid -k parse, stock config (baseline)", runs["stock"]))
        print(row("squid -k parse, stock + 10,000 sensors", runs["big"], runs["stock"]))
    print(
        f"python {sys.version.split()[0]}, "
        + subprocess.run([squid_bin, "-v"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    )


if __name__ == "__main__":
    main()
