"""The commissioning sheet: for each enabled sensor, what to enter on it, plus the site and proxy details.

Rendered as CSV and as simple HTML (black and white, one table) that the window prints or turns into a
PDF with Qt's own writer. The proxy password appears only when the engineer asks for it.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import __version__, atomicfile
from core.model import Project, Software, unreachable_problem

# Where each kind of sensor keeps its proxy settings, and what its fields are called there.
WHERE = {
    Software.LEGACY: "System settings > Basic > Sensor Network Settings",
    Software.V22: "System settings > Sensor Network Settings",
}
FIELDS = {
    Software.LEGACY: "Enable Proxy, Proxy Host, Proxy Port, Proxy User, Proxy Password",
    Software.V22: "Enable Proxy, Proxy Host, Port, Username, Password",
}
HIDDEN = "(as agreed; not printed)"


@dataclass(frozen=True)
class SheetRow:
    name: str
    address: str
    where: str  # the settings page on this sensor's software
    notes: str
    proxy_host: str
    port: int
    user: str
    password: str


def now_stamp() -> str:
    """Local time as sheets and kits say when they were made."""
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def made_by(source: str) -> str:
    """The sheet's footer: which sensorproxy made it, when, and from which project."""
    return f"Made by sensorproxy {__version__} on {now_stamp()} from {source}."


class SheetError(ValueError):
    """The sheet would tell sensors something they cannot use."""


def proxy_host(project: Project) -> str:
    """The proxy's address for the sensors: "Address sensors use", else the SSH host when sensors can
    reach that (an SSH tunnel to 127.0.0.1 is fine for SSH, useless to a sensor)."""
    if project.proxy.sensor_host:
        return project.proxy.sensor_host
    if why := unreachable_problem(project.ssh.host):
        raise SheetError(
            f"the SSH host {why}; fill in “Address sensors use” with the proxy's address as the sensors reach it"
        )
    return project.ssh.host


def rows(project: Project, password: str | None = None) -> list[SheetRow]:
    """One row per enabled sensor. `password` is printed only when given."""
    proxy = project.proxy
    host = proxy_host(project)
    user = proxy.auth_user if proxy.auth_enabled else ""
    shown = (password if password is not None else HIDDEN) if proxy.auth_enabled else ""
    return [
        SheetRow(s.name, s.address, WHERE[s.software], s.notes, host, proxy.port, user, shown)
        for s in project.sensors
        if s.enabled
    ]


def to_csv(project: Project, password: str | None = None) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["sensor", "sensor address", "settings page", "enable proxy", "proxy host", "proxy port",
                     "proxy user", "proxy password", "notes"])  # fmt: skip
    for r in rows(project, password):
        writer.writerow([r.name, r.address, r.where, "on", r.proxy_host, r.port, r.user, r.password, r.notes])
    return out.getvalue()


def write_csv(path: Path, project: Project, password: str | None = None) -> None:
    # With the BOM Excel writes and reads, so names with accents open correctly.
    atomicfile.write_text(path, "\ufeff" + to_csv(project, password))


def to_html(project: Project, password: str | None = None, *, generated: str = "") -> str:
    e = html.escape
    proxy = project.proxy
    table = "".join(
        f"<tr><td>{e(r.name)}</td><td>{e(r.address)}</td><td>{e(r.where)}</td><td>on</td><td>{e(r.proxy_host)}</td>"
        f"<td>{r.port}</td><td>{e(r.user) or '—'}</td><td>{e(r.password) or '—'}</td>"
        f"<td>{e(r.notes)}</td><td>&#9744;</td></tr>"
        for r in rows(project, password)
    )
    destinations = ", ".join(proxy.allowlist) if proxy.allowlist_enabled else "any"
    return f"""<html><body style="color:#000; background:#fff">
<h2>Commissioning sheet — {e(project.site)}</h2>
<p>On each sensor, on the settings page its row names, turn on <b>Enable Proxy</b> and enter the proxy
host, port, user and password below, then save. Tick the last column once the sensor shows as connected.<br/>
Legacy sensors (below 22.1): <b>{e(WHERE[Software.LEGACY])}</b>, fields {e(FIELDS[Software.LEGACY])}.<br/>
Sensors on 22.x and later: <b>{e(WHERE[Software.V22])}</b>, fields {e(FIELDS[Software.V22])}.</p>
<p>The port is Squid's port ({proxy.port}), not 443. NTP does not go through the proxy: give the sensors a
time source of their own. Nothing between the proxy and Azure may inspect TLS (sensorproxy check shows it).</p>
<p><b>Proxy server:</b> {e(proxy_host(project))}, port {proxy.port}
(managed over SSH at {e(project.ssh.host)}).<br/>
<b>Sensors may reach:</b> {e(destinations)}{" (HTTPS tunnels only)" if proxy.connect_only else ""}.<br/>
<b>Proxy login:</b> {e(proxy.auth_user) if proxy.auth_enabled else "none"}.</p>
<table border="1" cellspacing="0" cellpadding="4" width="100%">
<tr><th>Sensor</th><th>Sensor address</th><th>Settings page</th><th>Enable Proxy</th><th>Proxy host</th><th>Port</th>
<th>User</th><th>Password</th><th>Notes</th><th>Done</th></tr>
{table}
</table>
<p>{e(generated)}</p>
</body></html>"""
