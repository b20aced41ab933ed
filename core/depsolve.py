"""Squid's dependency closure in one release, chosen as apt chooses for a server that has only what every
server of that release has: its Essential and `Priority: required` packages (debootstrap's minimal base;
even `important` packages such as logrotate are missing from minimal images, so they are bundled).

Depends and Pre-Depends are followed with their alternatives (the first that can be had, unless one is
already had), virtual packages (through Provides, versioned or not) and version constraints. Relations
are read and versions compared by python-debian, Debian's own library."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from debian.deb822 import PkgRelation
from debian.debian_support import version_compare

from core.archive import Package

RELATIONS = ("Pre-Depends", "Depends")
PROVIDES = re.compile(r"^Provides:[ \t]*(.*)$", re.M)


class DependencyError(Exception):
    pass


@dataclass(frozen=True)
class Closure:
    packages: tuple[Package, ...]  # to bundle, by name
    assumed: tuple[str, ...]  # what the closure relies on every server having


@dataclass(frozen=True)
class Need:
    name: str
    op: str | None
    version: str | None

    def __str__(self) -> str:
        return f"{self.name} ({self.op} {self.version})" if self.op else self.name


OPS = {
    "<<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    "=": lambda c: c == 0,
    ">=": lambda c: c >= 0,
    ">>": lambda c: c > 0,
    "<": lambda c: c <= 0,
    ">": lambda c: c >= 0,
}  # < and > are dpkg's old <= and >=


def _alternatives(field: str, owner: Package) -> list[list[Need]]:
    """Each comma-separated relation as its alternatives (an arch qualifier such as :any is dropped)."""
    groups = []
    for group in PkgRelation.parse_relations(field):
        needs = []
        for alt in group:
            op, wanted = alt["version"] or (None, None)
            if op is not None and op not in OPS:
                raise DependencyError(f"{owner.name} {owner.version}: cannot read its relation {field!r}")
            needs.append(Need(alt["name"], op, wanted))
        groups.append(needs)
    return groups


def _newest(packages: Iterable[Package], arch: str) -> dict[str, Package]:
    """Each package's candidate: its highest version across the suites, as apt picks by default."""
    best: dict[str, Package] = {}
    for p in packages:
        if not (p.has(f"Architecture: {arch}") or p.has("Architecture: all")):
            continue
        held = best.get(p.name)
        if held is None or version_compare(p.version, held.version) > 0:
            best[p.name] = p
    return best


class _Archive:
    """One release's candidates, and what satisfies a relation among them."""

    def __init__(self, available: Iterable[Package], arch: str) -> None:
        self.candidates = _newest(available, arch)
        # Who provides what, by name only: a Provides line is read in full when a relation asks for one
        # of its names (a few per closure).
        self.provides: dict[str, list[tuple[Package, str]]] = {}
        for p in self.candidates.values():
            if "\nProvides:" in p.stanza and (m := PROVIDES.search(p.stanza)):
                for entry in m[1].split(","):
                    self.provides.setdefault(entry.split("(")[0].split(":")[0].strip(), []).append((p, m[1]))
        self.providers: dict[str, list[tuple[Package, str | None]]] = {}

    def provided(self, name: str) -> list[tuple[Package, str | None]]:
        """The packages that provide `name`, each with the version it provides (None: unversioned)."""
        if name not in self.providers:
            found = []
            for p, line in self.provides.get(name, ()):
                found += [
                    (p, n.version if n.op == "=" else None) for g in _alternatives(line, p) for n in g if n.name == name
                ]
            self.providers[name] = sorted(found, key=lambda pg: pg[0].name)
        return self.providers[name]

    def ways(self, need: Need) -> list[Package]:
        """The packages that would satisfy `need`: the real one first, then its providers by name."""
        found = []
        if (real := self.candidates.get(need.name)) is not None and _meets(real.version, need):
            found.append(real)
        for p, given in self.provided(need.name):
            if need.op is None or (given is not None and _meets(given, need)):
                found.append(p)
        return found

    def resolve(self, roots: Iterable[str], had: set[str]) -> tuple[dict[str, Package], set[str]]:
        """The packages `roots` need beyond `had`, and which of `had` they rely on."""
        chosen: dict[str, Package] = {}
        relied: set[str] = set()
        queue = list(roots)
        while queue:
            name = queue.pop()
            if name in had:
                relied.add(name)
                continue
            if name in chosen:
                continue
            package = chosen[name] = self.candidates[name]
            for field in RELATIONS:
                for group in _alternatives(package.fields[field], package) if field in package.fields else ():
                    options = [p for need in group for p in self.ways(need)]
                    pick = next((p for p in options if p.name in chosen or p.name in had), None) or next(
                        iter(options), None
                    )
                    if pick is None:
                        wanted = " | ".join(map(str, group))
                        raise DependencyError(
                            f"{package.name} {package.version} needs {wanted}, which the release does not have"
                        )
                    queue.append(pick.name)
        return chosen, relied


def _meets(have: str, need: Need) -> bool:
    return need.op is None or need.version is None or bool(OPS[need.op](version_compare(have, need.version)))


def closure(available: Iterable[Package], arch: str, roots: tuple[str, ...] = ("squid",)) -> Closure:
    archive = _Archive(available, arch)
    missing = [r for r in roots if r not in archive.candidates]
    if missing:
        raise DependencyError(f"the release's index has no {', '.join(missing)} for {arch}")
    # What every server has: the Essential and required packages, with what they depend on themselves.
    essential = [n for n, p in archive.candidates.items() if p.has("Priority: required") or p.has("Essential: yes")]
    base, _ = archive.resolve(essential, set())
    chosen, relied = archive.resolve(roots, set(base))
    return Closure(tuple(sorted(chosen.values(), key=lambda p: p.name)), tuple(sorted(relied)))
