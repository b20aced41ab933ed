"""Render the Squid files sensorproxy manages from a Project, and read them back. No I/O.

Where the rules go depends on the server's squid.conf:
- it includes `<conf_dir>/conf.d/*`: a drop-in `conf.d/sensorproxy.conf`, which lands after the stock
  port restrictions and before `http_access deny all`;
- it only has the `# INSERT YOUR OWN RULE(S) HERE` marker (squid 3.5, Ubuntu 18.04): a block between
  `# BEGIN sensorproxy` and `# END sensorproxy` right under it;
- an existing block is always replaced in place, so a server keeps the layout it was first given.

All sensors share one ACL whose addresses Squid reads from its own file, `sensorproxy.sensors`: one
address per line, each under a comment naming its sensor. One ACL keeps per-request checks a single
lookup; a file (rather than acl lines) keeps `squid -k parse` fast at thousands of sensors and makes a
changed sensor a one-line diff. Names and notes are percent-encoded in the comments, so no field can
ever add a directive.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, replace
from importlib import resources
from urllib.parse import unquote

from core.model import (
    DEFAULT_PORT,
    InvalidProject,
    ParentProxy,
    Project,
    ProxySettings,
    Sensor,
    SshTarget,
    canonical_address,
    require_valid,
    sensor_label,
)

FORMAT = 3  # 2: the sensors' addresses moved from acl lines into sensorproxy.sensors; 3: one line per sensor
MARKER = "# INSERT YOUR OWN RULE(S) HERE TO ALLOW ACCESS FROM YOUR CLIENTS"
BEGIN = "# BEGIN sensorproxy"
END = "# END sensorproxy"
MASK = "********"

ACL_SENSORS = "sensorproxy_sensors"
ACL_CONNECT = "sensorproxy_connect"
ACL_TLS = "sensorproxy_tls"
ACL_DEST = "sensorproxy_destinations"
ACL_USER = "sensorproxy_user"
PEER = "sensorproxy_parent"


class SquidConfigError(ValueError):
    """The server's squid.conf, or a managed file, cannot be used as it is; the message says why."""


@dataclass(frozen=True)
class SquidLayout:
    """Where things live on the server. Tests point `conf_dir` at a temporary directory, and `root` puts
    every other path the server scripts use (locks, backups, logs, /proc) under one."""

    conf_dir: str = "/etc/squid"
    ncsa_helper: str = "/usr/lib/squid/basic_ncsa_auth"
    root: str = ""

    @property
    def squid_conf(self) -> str:
        return posixpath.join(self.conf_dir, "squid.conf")

    @property
    def dropin(self) -> str:
        return posixpath.join(self.conf_dir, "conf.d", "sensorproxy.conf")

    @property
    def passwd_file(self) -> str:
        return posixpath.join(self.conf_dir, "sensorproxy.passwd")

    @property
    def sensors_file(self) -> str:
        # Beside squid.conf, not in conf.d: an `include conf.d/*` would read it as configuration.
        return posixpath.join(self.conf_dir, "sensorproxy.sensors")


@dataclass(frozen=True)
class Secrets:
    """What only apply has: the proxy user's password *hash* and the parent proxy's password."""

    proxy_password_hash: str | None = None
    parent_password: str | None = None


@dataclass(frozen=True)
class ManagedFile:
    path: str
    content: str
    mode: int = 0o644
    group: str = "root"  # the owner is always root; `proxy` as group where Squid's helpers must read it
    secret: bool = False  # holds a password or hash: never shown in a preview or log


@dataclass(frozen=True)
class Rendered:
    layout: str  # "dropin" or "block"
    files: tuple[ManagedFile, ...]
    complete: bool  # False when secrets were not given: fine to preview, never uploaded (Run.execute refuses)

    def file(self, path: str) -> ManagedFile | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True)
class ReadBack:
    """What a managed file encodes. `notes` lists lines that were not written by sensorproxy."""

    site: str
    proxy: ProxySettings
    sensors: tuple[Sensor, ...]
    notes: tuple[str, ...] = ()

    def allowed(self) -> tuple[Sensor, ...]:
        return tuple(s for s in self.sensors if s.enabled)

    def allowed_addresses(self) -> frozenset[str]:
        """The canonical addresses these rules let through."""
        return frozenset(canonical_address(s.address) for s in self.allowed())


def stock_conf() -> str:
    """Debian 12's stock squid.conf (comments removed): the layout assumed before a server is known."""
    return (resources.files("core") / "data" / "debian-12.conf").read_text(encoding="utf-8")


# --- encoding of free text in comments ------------------------------------------------------------


def encode(text: str) -> str:
    """Keep printable non-space characters; percent-encode the rest (and '%', '|', '#', quotes)."""
    out = []
    for ch in text:
        if ch.isprintable() and not ch.isspace() and ch not in "%|#\"'\\":
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def decode(text: str) -> str:
    return unquote(text, errors="strict")


# --- layout ---------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return text.splitlines()


def includes_dropin(squid_conf: str, layout: SquidLayout) -> bool:
    target = layout.dropin
    for line in _lines(squid_conf):
        words = line.split()
        if len(words) == 2 and words[0] == "include":
            pattern = words[1].strip('"')
            if posixpath.dirname(pattern) == posixpath.dirname(target) and fnmatch.fnmatchcase(
                posixpath.basename(target), posixpath.basename(pattern)
            ):
                return True
    return False


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise SquidConfigError(
            f"squid.conf has a damaged sensorproxy block ({len(begins)} '{BEGIN}' and "
            f"{len(ends)} '{END}' lines); fix it by hand or restore a backup first"
        )
    return begins[0], ends[0]


def choose_layout(squid_conf: str, layout: SquidLayout) -> str:
    lines = _lines(squid_conf)
    if _block_span(lines) is not None:
        return "block"
    if includes_dropin(squid_conf, layout):
        return "dropin"
    if any(line.strip() == MARKER for line in lines):
        return "block"
    raise SquidConfigError(
        f"{layout.squid_conf} has neither an 'include {layout.conf_dir}/conf.d/*.conf' line nor the "
        f"'{MARKER}' marker, so there is no safe place for the sensor rules; add one of them by hand"
    )


def with_block(squid_conf: str, block: str) -> str:
    """squid.conf with the managed block replaced in place, or inserted under the marker."""
    lines = _lines(squid_conf)
    new = [BEGIN, *_lines(block), END]
    span = _block_span(lines)
    if span is not None:
        lines[span[0] : span[1] + 1] = new
    else:
        at = next(i for i, line in enumerate(lines) if line.strip() == MARKER)
        lines[at + 1 : at + 1] = new
    return "\n".join(lines) + "\n"


def without_block(squid_conf: str) -> str:
    lines = _lines(squid_conf)
    span = _block_span(lines)
    if span is None:
        return squid_conf
    del lines[span[0] : span[1] + 1]
    return "\n".join(lines) + "\n"


def managed_text(text: str) -> str | None:
    """The managed part of a file: the block inside a squid.conf, or the whole drop-in."""
    lines = _lines(text)
    span = _block_span(lines)
    if span is not None:
        return "\n".join(lines[span[0] + 1 : span[1]]) + "\n"
    if any(line.startswith("# sensorproxy-format:") for line in lines[:5]):
        return text
    return None


# --- rendering ------------------------------------------------------------------------------------


HEADER = "# Managed by sensorproxy. Do not edit: the next apply replaces this text."
# Squid reads a list file in pieces of 2,047 bytes: the rest of a longer line would be read as a line of
# its own, so a comment's tail could become an address. The model's length limits keep lines far below
# this (about 1,100 bytes at most); the check makes that a guarantee.
LIST_LINE_BYTES = 2046


def squid_address(address: str) -> str:
    """A sensor's address as Squid reads it fastest: always with a prefix length (a bare address costs
    Squid several more scans and a resolver call per line, which shows at thousands of sensors)."""
    canonical = canonical_address(address)
    if "/" in canonical:
        return canonical
    return f"{canonical}/{128 if ':' in canonical else 32}"


def render_sensors(project: Project) -> str:
    """The sensor list file: a line per sensor. An enabled one's address comes first, and Squid reads
    nothing after the `#`; a disabled one is a comment."""
    require_valid(project)
    out = [
        HEADER,
        f"# sensorproxy-format: {FORMAT}",
        f"# The addresses acl {ACL_SENSORS} allows, each followed by the sensor it belongs to.",
        "",
    ]
    for row, sensor in enumerate(project.sensors, start=1):
        notes = f" | notes {encode(sensor.notes)}" if sensor.notes else ""
        if sensor.enabled:
            line = f"{squid_address(sensor.address)} # sensor {encode(sensor.name)}{notes}"
        else:
            line = f"# disabled sensor {encode(sensor.name)} | address {canonical_address(sensor.address)}{notes}"
        if len(line.encode("utf-8")) > LIST_LINE_BYTES:
            raise SquidConfigError(
                f"{sensor_label(row, sensor.name)}: name and notes are too long for Squid's sensor list"
            )
        out.append(line)
    return "\n".join(out) + "\n"


def render_rules(project: Project, layout: SquidLayout, secrets: Secrets | None = None) -> str:
    """The managed rules as text (the drop-in's content, or the block's body)."""
    require_valid(project)
    proxy = project.proxy
    out = [HEADER, f"# sensorproxy-format: {FORMAT}", f"# site: {encode(project.site)}"]
    if proxy.allow_wide_ranges:
        out.append("# allow-wide-ranges: yes")
    out.append("")
    any_enabled = any(s.enabled for s in project.sensors)
    if any_enabled:
        out.append(f'acl {ACL_SENSORS} src "{layout.sensors_file}"')
    else:
        out.append("# No sensor is enabled: these rules allow nobody.")

    # The settings' ACLs are written even with no sensor enabled, so read-back still sees them.
    allow = [ACL_SENSORS]
    if proxy.connect_only:
        out += [f"acl {ACL_CONNECT} method CONNECT", f"acl {ACL_TLS} port 443"]
        allow += [ACL_CONNECT, ACL_TLS]
    if proxy.allowlist_enabled:
        # -n: match names only; never reverse-resolve a sensor's IP destination.
        out.append(f"acl {ACL_DEST} dstdomain -n {' '.join(d.lower() for d in proxy.allowlist)}")
        allow.append(ACL_DEST)
    if proxy.auth_enabled:
        out += [
            f"auth_param basic program {layout.ncsa_helper} {layout.passwd_file}",
            "auth_param basic realm sensorproxy",
            "auth_param basic credentialsttl 2 hours",
            f"acl {ACL_USER} proxy_auth {proxy.auth_user}",
        ]
        allow.append(ACL_USER)  # last, so a wrong destination is a 403 rather than a login prompt
    if any_enabled:
        out += [
            f"http_access allow {' '.join(allow)}",
            f"http_access deny {ACL_SENSORS}",
            f"cache deny {ACL_SENSORS}",
        ]
    if proxy.port != DEFAULT_PORT:
        out.append(f"http_port {proxy.port}")
    if proxy.parent is not None:
        out += _parent_lines(proxy.parent, secrets, any_enabled)
    return "\n".join(out) + "\n"


def _parent_lines(parent: ParentProxy, secrets: Secrets | None, any_enabled: bool) -> list[str]:
    peer = f"cache_peer {parent.host} parent {parent.port} 0 no-query no-digest default name={PEER}"
    if parent.user:
        password = secrets.parent_password if secrets and secrets.parent_password else MASK
        peer += f" login={parent.user}:{password}"
    # Only the sensors may use the parent; everyone else keeps the server's own routing.
    if not any_enabled:
        return [peer, f"cache_peer_access {PEER} deny all"]
    return [
        peer,
        f"cache_peer_access {PEER} allow {ACL_SENSORS}",
        f"cache_peer_access {PEER} deny all",
        f"never_direct allow {ACL_SENSORS}",
    ]


def password_line(user: str, password_hash: str) -> str:
    if not re.fullmatch(r"\$(2[aby]|apr1|5|6)\$(rounds=[0-9]+\$)?[./A-Za-z0-9$]+", password_hash):
        raise ValueError("the proxy password hash is not a bcrypt, $apr1$, $5$ or $6$ hash")
    return f"{user}:{password_hash}\n"


def render(
    project: Project, squid_conf: str, layout: SquidLayout | None = None, secrets: Secrets | None = None
) -> Rendered:
    """Every file sensorproxy manages on a server whose squid.conf is `squid_conf`."""
    layout = layout or SquidLayout()
    proxy = project.proxy
    rules = render_rules(project, layout, secrets)
    where = choose_layout(squid_conf, layout)
    has_parent_login = proxy.parent is not None and bool(proxy.parent.user)
    files: list[ManagedFile] = []
    if where == "dropin":
        # Root:proxy 0640 because a parent proxy's login, when set, is a plain password Squid must read.
        files.append(ManagedFile(layout.dropin, rules, 0o640, "proxy", secret=has_parent_login))
    else:
        if has_parent_login:
            raise SquidConfigError(
                f"{layout.squid_conf} has no conf.d include, and a parent proxy login would put its "
                "password into the world-readable squid.conf; add the include or drop the parent user"
            )
        files.append(ManagedFile(layout.squid_conf, with_block(squid_conf, rules)))
    files.append(ManagedFile(layout.sensors_file, render_sensors(project)))
    complete = not has_parent_login or bool(secrets and secrets.parent_password)
    if proxy.auth_enabled:
        if secrets and secrets.proxy_password_hash:
            line = password_line(proxy.auth_user, secrets.proxy_password_hash)
            files.append(ManagedFile(layout.passwd_file, line, 0o640, "proxy", secret=True))
        else:
            complete = False
    return Rendered(where, tuple(files), complete)


# --- read-back ------------------------------------------------------------------------------------

_SENSOR_RE = re.compile(r"(\S+) # sensor (\S+)(?: \| notes (\S+))?")
_DISABLED_RE = re.compile(r"# disabled sensor (\S+) \| address (\S+)(?: \| notes (\S+))?")
_PEER_RE = re.compile(
    rf"cache_peer (\S+) parent (\d+) 0 no-query no-digest default name={PEER}(?: login=([^:\s]+):\S+)?"
)


def read_back(text: str, sensor_list: str | None) -> ReadBack:
    """The sensors and settings that a managed drop-in (or a squid.conf with a managed block) and the
    sensor list file encode. `sensor_list` is None when that file does not exist."""
    managed = managed_text(text)
    if managed is None:
        raise SquidConfigError("no sensorproxy-managed rules found in this file")
    site = ""
    wide = False
    notes: list[str] = []
    acls: dict[str, list[str]] = {}
    directives: list[list[str]] = []
    for raw in _lines(managed):
        line = raw.strip()
        if line.startswith("# site: "):
            site = decode(line[len("# site: ") :])
        elif line == "# allow-wide-ranges: yes":
            wide = True
        elif line.startswith("# sensorproxy-format: ") and line != f"# sensorproxy-format: {FORMAT}":
            notes.append(f"written by another sensorproxy version ({line[2:]}); the next apply rewrites it")
        elif line and not line.startswith("#"):
            words = line.split()
            if words[0] == "acl" and len(words) >= 4:
                acls[words[1]] = words[2:]
            directives.append(words)
    sensors: list[Sensor] = []
    if sensor_list is None:
        if ACL_SENSORS in acls:
            notes.append("the sensor list file is missing, so these rules allow no sensor")
    else:
        sensors = _read_sensors(sensor_list, notes)
    proxy = _settings(acls, directives, wide)
    back = ReadBack(site, proxy, tuple(sensors))
    return replace(back, notes=tuple(notes + _foreign_lines(managed, back)))


def _read_sensors(text: str, notes: list[str]) -> list[Sensor]:
    sensors: list[Sensor] = []
    for raw in _lines(text):
        line = raw.strip()
        if m := _DISABLED_RE.fullmatch(line):
            sensors.append(Sensor(decode(m[1]), m[2], enabled=False, notes=decode(m[3] or "")))
        elif m := _SENSOR_RE.fullmatch(line):
            sensors.append(Sensor(decode(m[2]), _host_form(m[1]), notes=decode(m[3] or "")))
        elif line and not line.startswith("#"):
            address = _host_form(line.split()[0])  # Squid reads only what comes before a `#`, too
            notes.append(f"address without its sensor in the sensor list: {line}")
            sensors.append(Sensor(f"unnamed {address}", address))
    return sensors


def _host_form(address: str) -> str:
    """`10.0.0.5/32` back to `10.0.0.5`, as the project writes it; anything else unchanged."""
    for suffix in ("/32", "/128"):
        if address.endswith(suffix) and (":" in address) == (suffix == "/128"):
            return address[: -len(suffix)]
    return address


def _foreign_lines(managed: str, back: ReadBack) -> list[str]:
    """Directives that differ from what rendering what was read back writes: hand edits, or damage."""
    project = Project(back.site, SshTarget("localhost", "root"), back.proxy, back.sensors)
    try:
        expected = render_rules(project, SquidLayout())
    except InvalidProject as exc:
        return [f"the managed rules do not describe a valid project: {p}" for p in exc.problems]
    ours = [_comparable(line) for line in expected.splitlines() if line and not line.startswith("#")]
    theirs = [_comparable(line) for line in managed.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [f"line not written by sensorproxy: {line}" for line in theirs if line not in ours] + [
        f"line missing: {line}" for line in ours if line not in theirs
    ]


def _comparable(line: str) -> str:
    # The parent's password is masked in a preview; the helper's and the sensor list's paths vary by layout.
    line = re.sub(r" login=([^:\s]+):\S+", r" login=\1:", line.strip())
    line = re.sub(rf'^acl {ACL_SENSORS} src ".*"$', f"acl {ACL_SENSORS} src", line)
    return re.sub(r"^auth_param basic program .*", "auth_param basic program", line)


def _settings(acls: dict[str, list[str]], directives: list[list[str]], wide: bool) -> ProxySettings:
    dest = acls.get(ACL_DEST, [])
    port = next((int(d[1]) for d in directives if d[0] == "http_port" and d[1].isdigit()), DEFAULT_PORT)
    user = acls.get(ACL_USER, ["", ""])[1]
    parent = None
    for d in directives:
        if d[0] == "cache_peer" and (m := _PEER_RE.fullmatch(" ".join(d))):
            parent = ParentProxy(m[1], int(m[2]), m[3] or "")
    return ProxySettings(
        port=port,
        auth_enabled=ACL_USER in acls,
        auth_user=user,
        connect_only=ACL_CONNECT in acls and ACL_TLS in acls,
        allowlist_enabled=ACL_DEST in acls,
        allowlist=tuple(w for w in dest[1:] if w != "-n"),
        parent=parent,
        allow_wide_ranges=wide,
    )
