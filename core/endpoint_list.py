"""A list of Azure endpoints to let through, as a site receives it, merged into the project's allowlist.

Newer sensors (22.x and later) come with a per-subscription list (Azure portal: Defender for IoT ▸
Sites and sensors ▸ More actions ▸ Download endpoint details). Microsoft documents where to get it but
not its format, and no published sample was found: this reads the plain forms a list comes in — one
host name per line (blank lines and `#` comments skipped), or a JSON array of host-name strings — and
says which line or element is not a host name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.model import allowed_by, domain_problem


class EndpointListError(ValueError):
    pass


@dataclass(frozen=True)
class Merged:
    allowlist: tuple[str, ...]
    added: tuple[str, ...]  # new exact host names
    covered: tuple[str, ...]  # already let through: listed, or under a wildcard entry

    def summary(self) -> str:
        added = f"added {len(self.added)}: {', '.join(self.added)}" if self.added else "added none"
        covered = f"; {len(self.covered)} already let through" if self.covered else ""
        return added + covered


def parse(text: str, source: str) -> tuple[str, ...]:
    """The host names in a list (`source` names it in errors), each once, in order."""
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith(("[", "{")):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise EndpointListError(f"{source}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(items, list):
            raise EndpointListError(f"{source}: a JSON list of host names was expected")
        named: list[tuple[str, object]] = [(f"element {i + 1}", item) for i, item in enumerate(items)]
    else:
        lines = enumerate(text.lstrip("\ufeff").splitlines(), start=1)
        named = [(f"line {n}", line.strip()) for n, line in lines if line.strip() and not line.strip().startswith("#")]
    hosts: list[str] = []
    for where, item in named:
        if not isinstance(item, str):
            raise EndpointListError(f"{source}, {where}: {item!r} is not a host name (a string)")
        problem = "a wildcard, not a host name" if item.startswith((".", "*")) else domain_problem(item)
        if problem:
            raise EndpointListError(f"{source}, {where}: {problem.replace('destination', 'host name')}")
        hosts.append(item.lower().rstrip("."))
    if not hosts:
        raise EndpointListError(f"{source}: no host names in it")
    return tuple(dict.fromkeys(hosts))


def merge(allowlist: tuple[str, ...], hosts: tuple[str, ...]) -> Merged:
    """`allowlist` with each host that it does not already let through added at its end."""
    added = tuple(h for h in hosts if not allowed_by(h, allowlist))
    covered = tuple(h for h in hosts if h not in added)
    return Merged((*allowlist, *added), added, covered)
