"""The site description: sensors, the proxy's settings and the SSH target, with validation.

Values are immutable; edits make new values with `dataclasses.replace`, which keeps undo simple.
Fields hold what the user typed, valid or not, so editors can show errors next to the value;
`validate` says what is wrong and where, and nothing renders or applies until it returns no problems.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache

from core import gcpause

DEFAULT_PORT = 3128
DEFAULT_ALLOWLIST = (
    ".azure-devices.net",
    ".blob.core.windows.net",
    ".servicebus.windows.net",
    "download.microsoft.com",
)
# Prefixes shorter than these open the proxy to far more than a sensor segment.
WIDEST_IPV4_PREFIX = 16
WIDEST_IPV6_PREFIX = 48
MAX_NAME = 64
MAX_NOTES = 200

_USER_RE = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,31}")
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_FORBIDDEN_IN_TEXT = set("\"'`\\")


class AuthMethod(StrEnum):
    KEY = "key"
    PASSWORD = "password"  # noqa: S105 - the name of a method, not a secret
    AGENT = "agent"


class Software(StrEnum):
    """What the sensor runs: where its proxy settings are, and what the commissioning sheet says."""

    LEGACY = "legacy"  # below 22.1.x: System settings > Basic > Sensor Network Settings
    V22 = "22.x+"  # 22.x and later: System settings > Sensor Network Settings


@dataclass(frozen=True)
class Sensor:
    name: str
    address: str
    enabled: bool = True
    notes: str = ""
    software: Software = field(default_factory=lambda: Software.LEGACY)


@dataclass(frozen=True)
class ParentProxy:
    host: str
    port: int = DEFAULT_PORT
    user: str = ""


@dataclass(frozen=True)
class ProxySettings:
    port: int = DEFAULT_PORT
    auth_enabled: bool = False
    auth_user: str = ""
    connect_only: bool = True
    allowlist_enabled: bool = True
    allowlist: tuple[str, ...] = DEFAULT_ALLOWLIST
    parent: ParentProxy | None = None
    allow_wide_ranges: bool = False
    sensor_host: str = ""  # the proxy's address as the sensors reach it; empty: the same as the SSH host
    # The site's own Azure host names (its IoT hub, its storage account) that the allowlist's wildcards
    # stand for: `sensorproxy check` proves the way out to them.
    endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class SshTarget:
    host: str
    user: str
    port: int = 22
    auth: AuthMethod = AuthMethod.KEY
    key_path: str = ""
    sudo: bool = False


@dataclass(frozen=True)
class Project:
    site: str
    ssh: SshTarget
    proxy: ProxySettings = field(default_factory=ProxySettings)
    sensors: tuple[Sensor, ...] = ()

    def normalized(self) -> Project:
        """The same project with addresses and domains in the canonical form rendering uses."""
        sensors = tuple(replace(s, address=canonical_address(s.address)) for s in self.sensors)
        proxy = replace(
            self.proxy,
            allowlist=tuple(d.lower() for d in self.proxy.allowlist),
            endpoints=tuple(h.lower() for h in self.proxy.endpoints),
        )
        return replace(self, sensors=sensors, proxy=proxy)


# What the window's form calls each field: messages name fields as the engineer sees them.
FIELD_LABELS = {
    ("site", "name"): "Site",
    ("ssh", "host"): "Server",
    ("ssh", "port"): "SSH port",
    ("ssh", "user"): "SSH user",
    ("ssh", "key_path"): "Key file",
    ("proxy", "port"): "Proxy port",
    ("proxy", "auth_user"): "Proxy user",
    ("proxy", "allowlist"): "Destinations",
    ("proxy", "endpoints"): "Azure endpoints",
    ("proxy", "sensor_host"): "Address sensors use",
    ("proxy", "parent.host"): "Parent proxy host",
    ("proxy", "parent.port"): "Parent proxy port",
    ("proxy", "parent.user"): "Parent proxy user",
}
WIDE_RANGES_CONTROL = "Allow wide sensor ranges"


def sensor_label(number: int, name: str) -> str:
    """How every message names a sensor: its number in the project (the table's row header) and name.
    A name with control characters is shown escaped, so no message carries a line break from it."""
    if not name.isprintable():
        name = name.encode("unicode_escape").decode("ascii")
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME] + "…"
    return f"sensor {number} ({name})" if name else f"sensor {number}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and where: `section` is site/ssh/proxy/sensors, `row` is the sensor's 1-based
    number in the project (the table's row header shows it), `name` its name, `other` the number of the
    sensor it conflicts with."""

    section: str
    field: str
    message: str
    row: int | None = None
    name: str = ""
    other: int | None = None

    def where(self) -> str:
        if self.row is not None:
            return f"{sensor_label(self.row, self.name)}, {self.field}"
        return FIELD_LABELS.get((self.section, self.field), f"{self.section} {self.field}")

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


def plural(count: int, noun: str) -> str:
    """`1 sensor`, `3 sensors`, `0 sensors`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


class InvalidProject(ValueError):
    """Raised where a valid project is required; carries every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"the project has {plural(len(problems), 'problem')}:\n{lines}")


# --- single-value checks: each returns an error message or None -------------------------------


def text_problem(value: str, *, what: str, max_len: int, required: bool) -> str | None:
    """Free text that ends up in comments: printable, no quotes or backslashes, trimmed."""
    if not value:
        return f"{what} is empty" if required else None
    if len(value) > max_len:
        return f"{what} is {len(value)} characters long; at most {max_len}"
    if value != value.strip():
        return f"{what} starts or ends with spaces"
    if value.isascii() and value.isprintable() and _FORBIDDEN_IN_TEXT.isdisjoint(value):
        return None  # the common case, without looking at each character's Unicode category
    for ch in value:
        if ch in _FORBIDDEN_IN_TEXT:
            return f"{what} contains {ch!r}; quotes and backslashes are not allowed"
        if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}:
            return f"{what} contains an invisible or control character (U+{ord(ch):04X})"
        if ch.isspace() and ch != " ":
            return f"{what} contains a tab or other non-space whitespace (U+{ord(ch):04X})"
    return None


@lru_cache(maxsize=1 << 17)
def _network(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parsed once per distinct address: validation, rendering and the overlap check all need it."""
    return ipaddress.ip_network(address, strict=True)


def canonical_address(address: str) -> str:
    """`10.0.0.5`, `10.0.0.0/24`, `fd00::5`; host networks (/32, /128) written as plain hosts."""
    net = _network(address)
    if net.num_addresses == 1:
        return str(net.network_address)
    return str(net)


def address_problem(address: str) -> str | None:
    """A sensor address must be a literal IP host or CIDR subnet; Squid would resolve anything else."""
    if not address:
        return "address is empty"
    if address != address.strip() or len(address.split()) > 1:  # split() breaks at any Unicode space
        return f"{address!r} contains whitespace; give one address per row"
    if "%" in address:
        return f"{address!r} has an IPv6 zone; Squid rules cannot use link-local zones"
    try:
        version, first, last = _span(address)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            base = ipaddress.ip_network(address, strict=False)
            return f"{address!r} is not a subnet boundary; did you mean {base}?"
        return f"{address!r} is not an IPv4 or IPv6 address or CIDR subnet (host names are not allowed)"
    # The first address's kind, as ipaddress's is_multicast, is_unspecified and is_loopback tell it, in
    # integer arithmetic: those properties cost more than parsing, 10,000 times over on a big import.
    multicast = (first >> 28 == 0xE) if version == 4 else (first >> 120 == 0xFF)  # 224.0.0.0/4, ff00::/8
    if multicast or first == last == 0:
        return f"{address!r} is a multicast or unspecified address, not a sensor"
    if (first >> 24 == 127) if version == 4 else (first == 1):  # 127.0.0.0/8, ::1
        return f"{address!r} is a loopback address, not a sensor"
    if version == 4 and first == 0xFFFFFFFF:  # only 255.255.255.255 itself starts there
        return f"{address!r} is the broadcast address, not a sensor"
    return None


def wide_range_problem(address: str) -> str | None:
    version, first, last = _span(address)
    widest = WIDEST_IPV4_PREFIX if version == 4 else WIDEST_IPV6_PREFIX
    count = last - first + 1
    if (32 if version == 4 else 128) - (count.bit_length() - 1) < widest:
        return (
            f"{address} covers {count:,} addresses and would open the proxy to everyone "
            f"in it; use /{widest} or narrower, or allow wide ranges explicitly: tick “{WIDE_RANGES_CONTROL}” "
            "in the window, or give `sensorproxy set` the setting proxy.allow_wide_ranges=true"
        )
    return None


def domain_problem(domain: str) -> str | None:
    """`.example.com` (the domain and every subdomain) or `host.example.com`."""
    if not domain:
        return "destination is empty"
    name = domain[1:] if domain.startswith(".") else domain
    if len(name) > 253:
        return f"{domain!r} is longer than 253 characters"
    labels = name.lower().split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return f"{domain!r} is not a domain name like .azure-devices.net or download.microsoft.com"
    if labels[-1].isdigit():
        return f"{domain!r} looks like an IP address; the allowlist takes domain names"
    return None


def user_problem(user: str, *, what: str) -> str | None:
    if not _USER_RE.fullmatch(user):
        return f"{what} {user!r} must be 1-32 letters, digits, '.', '_' or '-'"
    return None


def port_problem(port: int) -> str | None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return f"port {port!r} is not between 1 and 65535"
    return None


def host_problem(host: str) -> str | None:
    """An SSH or parent-proxy host: an IP literal or a DNS name, never anything with spaces."""
    if not host:
        return "host is empty"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.lower().rstrip(".").split(".")
    if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return f"{host!r} is not an IP address or host name"
    return None


def unreachable_problem(host: str) -> str | None:
    """An address no sensor can reach the proxy on (an SSH tunnel may still use it for SSH)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    for test, kind in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_unspecified, "unspecified"),
    ):
        if test:
            return f"{host} is a {kind} address: sensors cannot reach the proxy there"
    return None


# --- whole-project validation -----------------------------------------------------------------


def validate(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    site_msg = text_problem(project.site, what="site name", max_len=MAX_NAME, required=True)
    if site_msg:
        problems.append(Problem("site", "name", site_msg))
    problems += validate_ssh(project.ssh)
    problems += validate_proxy(project.proxy)
    problems += validate_sensors(project.sensors, allow_wide=project.proxy.allow_wide_ranges)
    return problems


def validate_ssh(ssh: SshTarget) -> list[Problem]:
    problems: list[Problem] = []
    checks = [
        ("host", host_problem(ssh.host)),
        ("port", port_problem(ssh.port)),
        ("user", user_problem(ssh.user, what="SSH user")),
    ]
    if ssh.key_path:
        checks.append(("key_path", text_problem(ssh.key_path, what="key path", max_len=1024, required=False)))
    problems += [Problem("ssh", f, m) for f, m in checks if m]
    return problems


def validate_proxy(proxy: ProxySettings) -> list[Problem]:
    problems: list[Problem] = []
    if msg := port_problem(proxy.port):
        problems.append(Problem("proxy", "port", msg))
    if proxy.auth_enabled and (msg := user_problem(proxy.auth_user, what="proxy user")):
        problems.append(Problem("proxy", "auth_user", msg))
    if proxy.allowlist_enabled:
        if not proxy.allowlist:
            problems.append(Problem("proxy", "allowlist", "the allowlist is on but empty; nothing could pass"))
        problems += _validate_allowlist(proxy.allowlist)
    problems += _validate_endpoints(proxy)
    if proxy.sensor_host and (msg := host_problem(proxy.sensor_host) or unreachable_problem(proxy.sensor_host)):
        problems.append(Problem("proxy", "sensor_host", msg))
    if proxy.parent is not None:
        p = proxy.parent
        checks = [("parent.host", host_problem(p.host)), ("parent.port", port_problem(p.port))]
        if p.user:
            checks.append(("parent.user", user_problem(p.user, what="parent proxy user")))
        problems += [Problem("proxy", f, m) for f, m in checks if m]
    return problems


def _validate_allowlist(domains: tuple[str, ...]) -> list[Problem]:
    problems: list[Problem] = []
    valid: list[str] = []
    for domain in domains:
        if msg := domain_problem(domain):
            problems.append(Problem("proxy", "allowlist", msg))
        else:
            valid.append(domain.lower())
    seen: set[str] = set()
    for domain in valid:
        if domain in seen:
            problems.append(Problem("proxy", "allowlist", f"{domain} is listed twice"))
        seen.add(domain)
    # Squid refuses a list where one entry is covered by a wildcard entry: say which.
    wildcards = sorted(d for d in seen if d.startswith("."))
    for domain in sorted(seen):
        bare = domain.lstrip(".")
        for wildcard in wildcards:
            if wildcard != domain and (bare == wildcard[1:] or bare.endswith(wildcard)):
                problems.append(Problem("proxy", "allowlist", f"{domain} is already covered by {wildcard}"))
                break
    return problems


def _validate_endpoints(proxy: ProxySettings) -> list[Problem]:
    """Host names only (no wildcard), once each, and ones the sensors may reach."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for host in proxy.endpoints:
        name = host.lower()
        if msg := ("an endpoint is a host name, not a wildcard" if host.startswith(".") else domain_problem(host)):
            problems.append(Problem("proxy", "endpoints", msg.replace("destination", "endpoint")))
        elif name in seen:
            problems.append(Problem("proxy", "endpoints", f"{name} is listed twice"))
        elif proxy.allowlist_enabled and not allowed_by(name, proxy.allowlist):
            problems.append(
                Problem("proxy", "endpoints", f"{name} is not in the destinations: sensors could not reach it")
            )
        seen.add(name)
    return problems


def allowed_by(host: str, allowlist: tuple[str, ...]) -> bool:
    """Whether Squid's dstdomain list lets `host` through: the name itself, or a `.domain` above it."""
    host = host.lower()
    for entry in (d.lower() for d in allowlist):
        if host == entry or (entry.startswith(".") and (host == entry[1:] or host.endswith(entry))):
            return True
    return False


def sensor_problems(sensor: Sensor, *, allow_wide: bool = False) -> list[tuple[str, str]]:
    """(field, message) for one sensor on its own; uniqueness needs the whole list."""
    return list(_sensor_problems(sensor, allow_wide))


# Cached because the table revalidates every row after each edit: with 10,000 sensors, parsing every
# address again would cost the window 100 ms or more per keystroke. Sensors are immutable values.
@lru_cache(maxsize=1 << 17)
def _sensor_problems(sensor: Sensor, allow_wide: bool) -> tuple[tuple[str, str], ...]:
    found = [
        ("name", text_problem(sensor.name, what="name", max_len=MAX_NAME, required=True)),
        ("address", address_problem(sensor.address)),
        ("notes", text_problem(sensor.notes, what="notes", max_len=MAX_NOTES, required=False)),
    ]
    if found[1][1] is None and not allow_wide:
        found.append(("address", wide_range_problem(sensor.address)))
    return tuple((f, m) for f, m in found if m)


Label = Callable[[int], str]  # a sensor's number to how messages name it


# A plain dotted IPv4 address, as ipaddress accepts it (ASCII digits, no leading zeros): nearly every
# sensor's address is one, and reading it here costs a tenth of what ipaddress does.
_IPV4 = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})")


@lru_cache(maxsize=1 << 17)
def _span(address: str) -> tuple[int, int, int]:
    """(version, first, last) of a valid address or subnet; ValueError for anything else."""
    if (m := _IPV4.fullmatch(address)) and max(octets := [int(octet) for octet in m.groups()]) <= 255:
        a, b, c, d = octets
        first = a << 24 | b << 16 | c << 8 | d
        return 4, first, first
    net = _network(address)
    first = int(net.network_address)
    return net.version, first, first | ((1 << (net.max_prefixlen - net.prefixlen)) - 1)


def validate_sensors(sensors: tuple[Sensor, ...], *, allow_wide: bool = False) -> list[Problem]:
    with gcpause.paused():  # new sensors' checks are cached for good: nothing here is garbage
        return _validate_sensors(sensors, allow_wide)


def _validate_sensors(sensors: tuple[Sensor, ...], allow_wide: bool, label: Label | None = None) -> list[Problem]:
    label = label or (lambda row: sensor_label(row, sensors[row - 1].name))
    problems: list[Problem] = []
    names: dict[str, int] = {}
    networks: list[tuple[int, int, int, int]] = []  # (version, first, last, row)
    for row, sensor in enumerate(sensors, start=1):
        own = sensor_problems(sensor, allow_wide=allow_wide)
        problems += [Problem("sensors", f, m, row, sensor.name) for f, m in own]
        key = sensor.name.casefold()
        if key in names and not any(f == "name" for f, _ in own):
            first = names[key]
            msg = f"{sensor.name!r} is also the name of {label(first)}"
            problems.append(Problem("sensors", "name", msg, row, sensor.name, first))
        names.setdefault(key, row)
        if not any(f == "address" for f, _ in own):
            networks.append((*_span(sensor.address), row))
    problems += _overlaps(networks, sensors, label)
    return problems


def _overlaps(networks: list[tuple[int, int, int, int]], sensors: tuple[Sensor, ...], label: Label) -> list[Problem]:
    """Duplicates and hosts inside listed subnets, found by one sweep over sorted ranges."""
    problems: list[Problem] = []
    # Wider ranges first at equal start, so the enclosing subnet is the one kept open.
    ordered = sorted(networks, key=lambda n: (n[0], n[1], -n[2], n[3]))
    open_range: tuple[int, int, int, int] | None = None
    for net in ordered:
        if open_range and open_range[0] == net[0] and net[1] <= open_range[2]:
            other = sensors[open_range[3] - 1]
            mine = sensors[net[3] - 1]
            if (open_range[1], open_range[2]) == (net[1], net[2]):
                msg = f"{mine.address} is also the address of {label(open_range[3])}"
            else:
                msg = f"{mine.address} lies inside {other.address} of {label(open_range[3])}"
            problems.append(Problem("sensors", "address", msg, net[3], mine.name, open_range[3]))
            if net[2] <= open_range[2]:
                continue
        open_range = net
    problems.sort(key=lambda p: p.row or 0)
    return problems


def check_additions(
    existing: tuple[Sensor, ...], new: list[tuple[int, Sensor]], *, allow_wide: bool = False
) -> tuple[list[Sensor], list[tuple[int, str]]]:
    """Rows to add to `existing`, each with the line it came from: the ones that fit, and (line, why) for
    those that clash with a sensor already there or with an earlier new row (same name, same or
    overlapping address). The good ones can be added without turning any row red."""
    base = len(existing)
    lines = [line for line, _ in new]

    def label(row: int) -> str:
        return sensor_label(row, existing[row - 1].name) if row <= base else f"line {lines[row - base - 1]}"

    merged = existing + tuple(s for _, s in new)
    bad: dict[int, str] = {}
    for p in _validate_sensors(merged, allow_wide, label):
        assert p.row is not None
        if p.row > base:
            bad.setdefault(p.row, p.message)
        elif p.other is not None and p.other > base:  # a new subnet that holds a sensor already there
            mine = merged[p.other - 1]
            bad.setdefault(p.other, f"{mine.address} holds {existing[p.row - 1].address} of {label(p.row)}")
    good = [s for row, (_, s) in enumerate(new, start=base + 1) if row not in bad]
    return good, sorted((lines[row - base - 1], why) for row, why in bad.items())


def require_valid(project: Project) -> None:
    if problems := validate(project):
        raise InvalidProject(problems)
