"""Run the real `squid -k parse` on rendered files inside a temporary copy of a stock squid.conf."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from core import squid
from core.model import Project
from core.squid import stock_conf

FAKE_HASH = "$2b$12$abcdefghijklmnopqrstuuJm5Y4bHb3n1U1CdbT9mEfF3OwG0I4yC"


@dataclass
class ParseResult:
    returncode: int
    output: str

    def problems(self) -> list[str]:
        return [line for line in self.output.splitlines() if "ERROR" in line or "FATAL" in line or "WARNING" in line]


def read_rendered(rendered: squid.Rendered) -> squid.ReadBack:
    """Read back what `render` made, as status reads it from a server: the rules and the sensor list."""
    sensor_list = next(f.content for f in rendered.files if f.path.endswith("/sensorproxy.sensors"))
    return squid.read_back(rendered.files[0].content, sensor_list)


def server_dir(tmp: Path, stock: str | None = None) -> squid.SquidLayout:
    """A conf dir holding a stock squid.conf whose include points into it, and the Debian package's own
    drop-in (without any file to include, Squid stops at the include line: FATAL)."""
    (tmp / "conf.d").mkdir(parents=True, exist_ok=True)
    (tmp / "conf.d" / "debian.conf").write_text("# Logs are managed by logrotate on Debian\nlogfile_rotate 0\n")
    text = (stock or stock_conf()).replace("/etc/squid/conf.d", str(tmp / "conf.d"))
    (tmp / "squid.conf").write_text(text)
    return squid.SquidLayout(conf_dir=str(tmp))


def write_rendered(project: Project, layout: squid.SquidLayout, squid_bin: str) -> ParseResult:
    conf = Path(layout.squid_conf).read_text()
    secrets = squid.Secrets(proxy_password_hash=FAKE_HASH, parent_password="parent-secret")
    rendered = squid.render(project, conf, layout, secrets)
    assert rendered.complete
    for f in rendered.files:
        Path(f.path).write_text(f.content)
    return parse(layout, squid_bin)


def parse(layout: squid.SquidLayout, squid_bin: str) -> ParseResult:
    proc = subprocess.run(
        [squid_bin, "-k", "parse", "-f", layout.squid_conf],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return ParseResult(proc.returncode, proc.stdout + proc.stderr)


def server_view(project: Project) -> Project:
    """The project as far as a server's managed config can encode it (what read-back can return)."""
    p = project.normalized()
    proxy = p.proxy
    if not proxy.auth_enabled:
        proxy = replace(proxy, auth_user="")
    if not proxy.allowlist_enabled:
        proxy = replace(proxy, allowlist=())
    return replace(p, proxy=proxy)
