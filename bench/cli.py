#!/usr/bin/env python3
"""The command line as a terminal runs it: whole processes, each figure against a baseline process
timed in turns with it (same interpreter, same machine state).

- `sensorproxy --version` against `python -c 'import argparse'` (target: at most 2x);
- `sensorproxy validate` of 10,000 sensors against `python -c` reading the same file with tomllib alone
  (target: at most 1.5x).
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

from bench.measure import row_ms  # noqa: E402
from core import projectfile  # noqa: E402
from core.model import Sensor  # noqa: E402

RUNS = 21
EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def big_project(folder: Path) -> Path:
    project = projectfile.load(EXAMPLE)
    sensors = tuple(
        Sensor(f"Sensor {i}", f"10.{i // 250}.{i % 250}.1", notes="cabinet 4" if i % 3 else "") for i in range(10_000)
    )
    path = folder / "big.toml"
    projectfile.save(replace(project, sensors=sensors), path)
    return path


def in_turns(commands: dict[str, list[str]], env: dict[str, str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env)
            out[name].append(time.perf_counter() - start)
    return out


def main() -> None:
    sensorproxy = str(Path(sys.executable).with_name("sensorproxy"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_STATE_HOME": tmp, "XDG_CONFIG_HOME": tmp}
        big = big_project(Path(tmp))
        t = in_turns(
            {
                "argparse": [sys.executable, "-c", "import argparse"],
                "version": [sensorproxy, "--version"],
                "tomllib": [sys.executable, "-c", f"import tomllib; tomllib.load(open({str(big)!r}, 'rb'))"],
                "validate": [sensorproxy, "validate", str(big)],
            },
            env,
        )
    print(f"whole processes, median of {RUNS} taken in turns with their baselines")
    print(row_ms("python -c 'import argparse'", t["argparse"]))
    print(row_ms("sensorproxy --version (target <= 2x)", t["version"], t["argparse"]))
    print(row_ms("python -c: tomllib reads 10,000 sensors' project", t["tomllib"]))
    print(row_ms("sensorproxy validate, 10,000 sensors (target <= 1.5x)", t["validate"], t["tomllib"]))


if __name__ == "__main__":
    main()
