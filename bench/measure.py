"""Shared by the benchmarks: time a call several times, and print a figure against its baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from core import model

RUNS = 5


def forget_validation() -> None:
    """Validation caches each sensor's checks; a first look at a project, or an import, has none."""
    model._sensor_problems.cache_clear()
    model._network.cache_clear()
    model._span.cache_clear()


def timed(fn: Callable[[], object], runs: int = RUNS, setup: Callable[[], object] | None = None) -> list[float]:
    """Wall-clock seconds of `fn`, `runs` times; `setup` runs before each, untimed."""
    out = []
    for _ in range(runs):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def timed_together(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Wall-clock seconds of each of `fns`, taken in turns (a, b, c, a, b, c, ...): a figure and its
    baseline then see the same drift in CPU clock and load, which timing one after the other does not."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            out[name].append(time.perf_counter() - start)
    return out


def row_ms(label: str, samples: list[float], base: list[float] | None = None) -> str:
    med = statistics.median(samples)
    ratio = f"{med / statistics.median(base):7.2f}x" if base else "   base "
    spread = f"(min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"
    return f"{label:<58} {med * 1000:9.1f} ms  {spread}  {ratio}"


def row_s(label: str, samples: list[float], base: list[float] | None = None, digits: int = 3) -> str:
    """For figures measured in seconds (runs against the lab)."""
    med = statistics.median(samples)
    ratio = f"{med / statistics.median(base):6.2f}x" if base else "  base "
    spread = f"(min {min(samples):.{digits}f}, max {max(samples):.{digits}f})"
    return f"{label:<52} {med:7.{digits}f} s  {spread}  {ratio}"
