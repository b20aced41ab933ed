"""Proof of connection: Squid's access log, per sensor.

Squid's native log format (Debian's default) has one line per request; a CONNECT tunnel is logged when it
closes. For each sensor: when it was last seen, where it went and how that ended (tunnel established,
denied, authentication failed). Clients that are not in the table are listed too: a sensor set up with a
wrong address shows up there.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from core.model import Sensor, address_problem

LOG_FILE = "/var/log/squid/access.log"
TAIL_LINES = 20_000

ESTABLISHED = "tunnel established"
DENIED = "denied"
AUTH_FAILED = "authentication failed"
NEVER = "not seen"


@dataclass(frozen=True)
class Entry:
    time: float
    client: str
    action: str  # TCP_TUNNEL, TCP_DENIED, …
    code: int
    method: str
    url: str
    user: str

    @property
    def result(self) -> str:
        if self.code == 407:
            return AUTH_FAILED
        if self.code == 403 or self.action.endswith("DENIED"):
            return DENIED
        if self.method == "CONNECT" and 200 <= self.code < 300:
            return ESTABLISHED
        return f"{self.action}/{self.code:03d}"


@dataclass(frozen=True)
class Seen:
    """The latest log line of one sensor (or one unknown client) and how many lines it has."""

    address: str
    name: str
    last: Entry | None
    count: int

    @property
    def result(self) -> str:
        return self.last.result if self.last else NEVER

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.last.time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if self.last else "-"

    @property
    def destination(self) -> str:
        return self.last.url if self.last else "-"


def parse(text: str) -> list[Entry]:
    """Lines in Squid's native format; anything else (a custom logformat, a cut line) is skipped."""
    entries = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        action, _, code = f[3].partition("/")
        try:
            entries.append(Entry(float(f[0]), f[2], action, int(code), f[5], f[6], "" if f[7] == "-" else f[7]))
        except ValueError:
            continue
    return entries


def summarize(entries: list[Entry], sensors: tuple[Sensor, ...]) -> tuple[tuple[Seen, ...], tuple[Seen, ...]]:
    """(one row per enabled sensor, in the table's order; one row per client no sensor covers)."""
    nets = [(s, ipaddress.ip_network(s.address)) for s in sensors if s.enabled and address_problem(s.address) is None]
    # Thousands of sensors and lines: hosts by lookup, only subnets by scan, and each client worked out once.
    hosts = {net.network_address: s.address for s, net in reversed(nets) if net.num_addresses == 1}
    subnets = [(net, s.address) for s, net in nets if net.num_addresses > 1]
    owners: dict[str, str | None] = {}
    latest: dict[str, Entry] = {}
    counts: dict[str, int] = {}
    unknown: dict[str, Entry] = {}
    unknown_counts: dict[str, int] = {}
    for entry in entries:
        if entry.client not in owners:
            try:
                client = ipaddress.ip_address(entry.client)
            except ValueError:
                continue
            owners[entry.client] = hosts.get(client) or next((a for net, a in subnets if client in net), None)
        owner = owners[entry.client]
        if owner is None:
            unknown[entry.client] = entry
            unknown_counts[entry.client] = unknown_counts.get(entry.client, 0) + 1
            continue
        counts[owner] = counts.get(owner, 0) + 1
        if owner not in latest or entry.time >= latest[owner].time:
            latest[owner] = entry
    rows = tuple(Seen(s.address, s.name, latest.get(s.address), counts.get(s.address, 0)) for s, _ in nets)
    strangers = tuple(
        Seen(client, "", e, unknown_counts[client]) for client, e in sorted(unknown.items(), key=lambda kv: -kv[1].time)
    )
    return rows, strangers
