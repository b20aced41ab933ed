"""Proof of connection: Squid's access log, per sensor, split at the last configuration change.

Squid's native log format (Debian's default) has one line per request; a CONNECT tunnel is logged when it
closes. A line from before the running configuration took effect is history: it says what a sensor did
under rules that no longer apply, never what it does now. Clients that are not in the table are listed
too, with their time range: a sensor set up with a wrong address shows up there.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, replace
from datetime import datetime

from core.model import Sensor, address_problem, canonical_address

LOG_FILE = "/var/log/squid/access.log"
TAIL_LINES = 20_000

ESTABLISHED = "tunnel established"
DENIED = "denied by the proxy's rules"
AUTH_FAILED = "proxy login refused"
NEVER = "not seen"

# Squid's result codes (action/HTTP status) in the words of someone standing at the sensor.
_STATUS_WORDS = {
    0: "connected to the port but sent no request",
    400: "sent a request the proxy could not read",
    403: DENIED,
    407: AUTH_FAILED,
    502: "the destination answered, but not as expected",
    503: "the proxy could not reach the destination",
    504: "the destination did not answer in time",
}
_ENDINGS = {"_ABORTED": "; the connection was cut", "_TIMEDOUT": "; timed out"}


@dataclass(frozen=True)
class Entry:
    time: float  # the server's clock
    client: str
    action: str  # TCP_TUNNEL, TCP_DENIED, NONE_NONE, …
    code: int
    method: str
    url: str
    user: str

    @property
    def tunnelled(self) -> bool:
        return self.method == "CONNECT" and 200 <= self.code < 300

    @property
    def result(self) -> str:
        ending = next((words for suffix, words in _ENDINGS.items() if self.action.endswith(suffix)), "")
        if self.tunnelled:
            return ESTABLISHED + ending
        if self.code in _STATUS_WORDS:
            return _STATUS_WORDS[self.code] + ending
        if self.action.endswith("DENIED"):
            return DENIED
        if 200 <= self.code < 400:
            return f"plain {self.method} request passed (not a tunnel)"
        return f"{self.action}/{self.code:03d}"


@dataclass(slots=True)
class Activity:
    """One sensor's (or one unknown client's) log lines, split at the configuration change. Filled line
    by line (`add`, in place: a status read goes through 20,000 lines on the window's thread)."""

    address: str
    name: str
    latest: Entry | None = None  # the latest line since the change
    tunnel: Entry | None = None  # the latest tunnel since the change
    before: Entry | None = None  # the latest line from before it: history, not state
    count: int = 0  # lines since the change
    first: float | None = None  # the earliest line of all, for a time range
    last: float | None = None  # the latest line of all

    @property
    def current(self) -> Entry | None:
        """What counts now: a tunnel since the change, else the latest line since it."""
        return self.tunnel or self.latest

    def add(self, entry: Entry, since: float | None) -> None:
        t = entry.time
        self.first = t if self.first is None or t < self.first else self.first
        self.last = t if self.last is None or t > self.last else self.last
        if since is None or t < since:
            if self.before is None or t >= self.before.time:
                self.before = entry
            return
        self.count += 1
        if self.latest is None or t >= self.latest.time:
            self.latest = entry
        if entry.tunnelled and (self.tunnel is None or t >= self.tunnel.time):
            self.tunnel = entry

    def aged(self) -> Activity:
        """The same lines after a new change: all of them history now."""
        candidates = [e for e in (self.latest, self.before) if e is not None]
        before = max(candidates, key=lambda e: e.time, default=None)
        return replace(self, latest=None, tunnel=None, before=before, count=0)


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


def summarize(
    entries: list[Entry], sensors: tuple[Sensor, ...], since: float | None
) -> tuple[tuple[Activity, ...], tuple[Activity, ...]]:
    """(one row per enabled sensor, in the table's order; one row per client no sensor covers, the latest
    first). Lines before `since` (the server time the running configuration took effect) are history;
    with `since` None no sensorproxy configuration runs, and every line is."""
    nets = [(s, ipaddress.ip_network(s.address)) for s in sensors if s.enabled and address_problem(s.address) is None]
    # Thousands of sensors and lines: hosts by lookup, only subnets by scan, and each client worked out once.
    hosts = {net.network_address: s.address for s, net in reversed(nets) if net.num_addresses == 1}
    subnets = [(net, s.address) for s, net in nets if net.num_addresses > 1]
    owners: dict[str, str | None] = {}
    seen: dict[str, Activity] = {s.address: Activity(s.address, s.name) for s, _ in reversed(nets)}
    unknown: dict[str, Activity] = {}
    for entry in entries:
        if entry.client not in owners:
            try:
                client = ipaddress.ip_address(entry.client)
            except ValueError:
                continue
            owners[entry.client] = hosts.get(client) or next((a for net, a in subnets if client in net), None)
        owner = owners[entry.client]
        if owner is None:
            if entry.client not in unknown:
                unknown[entry.client] = Activity(entry.client, "")
            unknown[entry.client].add(entry, since)
        else:
            seen[owner].add(entry, since)
    rows = tuple(seen[s.address] for s, _ in nets)
    strangers = tuple(sorted(unknown.values(), key=lambda a: -(a.last or 0)))
    return rows, strangers


# --- in words, on the workstation's clock -----------------------------------------------------------


def clock(t: float) -> str:
    """A time on the workstation's clock: 12:04 today, else with its date."""
    when = datetime.fromtimestamp(t)
    return when.strftime("%H:%M" if when.date() == datetime.now().date() else "%Y-%m-%d %H:%M")


def ago(t: float, now: float | None = None) -> str:
    seconds = max(0.0, (time.time() if now is None else now) - t)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} days ago"


def at(t: float) -> str:
    """A time on the workstation's clock with its age: "12:04, 3 min ago"."""
    return f"{clock(t)}, {ago(t)}"


def span(acts: list[Activity] | tuple[Activity, ...], offset: float) -> str:
    """The time range of some clients' lines, on the workstation's clock: "11:02–12:04"."""
    first = min((a.first for a in acts if a.first is not None), default=0.0) + offset
    last = max((a.last for a in acts if a.last is not None), default=0.0) + offset
    return clock(first) if last - first < 60 else f"{clock(first)}–{clock(last)}"


@dataclass(frozen=True)
class Snapshot:
    """What the server said about its sensors as of one read (or one change), for the sensor table.

    Times are the server's; `offset` (the workstation's clock minus the server's, when read) puts them
    on the workstation's clock, so "3 min ago" holds however far apart the two clocks are."""

    allowed: frozenset[str] | None  # canonical addresses the server's rules let through; None: unknown
    activity: dict[str, Activity]  # canonical address of a sensor -> its lines
    since: float | None  # when the running configuration took effect; None: none runs
    offset: float = 0.0
    why_none: str = "Squid is not running"  # why no configuration runs, when `since` is None

    def state(self, address: str, now: float | None = None) -> tuple[str, str]:
        """(the State column's words, its tooltip) for a sensor's address."""
        key = canonical_address(address)
        act = self.activity.get(key)
        history = self._history(act)
        if self.allowed is not None and key not in self.allowed:
            return "not on the server", f"The server's rules do not let this sensor through yet: apply.{history}"
        if self.since is None:
            return f"no proxy ({self.why_none})", f"{self.why_none}: no sensor can connect now.{history}"
        entry = act.current if act else None
        if entry is None:
            return (
                f"not seen since {clock(self.since + self.offset)}",
                f"No connection since the configuration changed at {clock(self.since + self.offset)}.{history}",
            )
        t = entry.time + self.offset
        words = f"{entry.result} {clock(t)}, {ago(t, now)}"
        tip = f"{entry.result} at {clock(t)} to {entry.url}"
        if act and act.latest and act.latest is not entry:
            tip += f"; its latest request: {act.latest.result} at {clock(act.latest.time + self.offset)}"
        return words, tip + "."

    def _history(self, act: Activity | None) -> str:
        if act is None or act.before is None:
            return ""
        t = act.before.time + self.offset
        return f"\nBefore that change (history, not state): {act.before.result} at {clock(t)}, {ago(t)}."

    def after_change(self, allowed: frozenset[str] | None, since: float) -> Snapshot:
        """The server's configuration just changed: every line so far is history."""
        aged = {key: act.aged() for key, act in self.activity.items()}
        return replace(self, allowed=allowed, activity=aged, since=since)


def snapshot(
    rows: tuple[Activity, ...], allowed: frozenset[str] | None, since: float | None, offset: float, why_none: str
) -> Snapshot:
    return Snapshot(allowed, {canonical_address(a.address): a for a in rows}, since, offset, why_none)
