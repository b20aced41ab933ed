"""The offline kit: a zip for sites where the laptop may not SSH to the proxy server and files travel on
USB. It holds the managed files (the proxy password only as its SHA-512-crypt hash), `apply.sh` — the same
transaction the app runs over SSH: back up, write, `squid -k parse` with rollback, enable, start or
reconfigure, verify with rollback — and a short README. The kit targets servers whose squid.conf
includes conf.d (Debian 10+, Ubuntu 20.04+); apply.sh checks that before it changes anything.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from core import squid
from core.model import Project, require_valid
from core.remote import server, shell
from core.remote.setup import proxy_password_hash
from core.secret_kind import Kind

README = """sensorproxy offline kit — {site}
Made {made} by sensorproxy.

Copy this folder to the proxy server and run, as root:

    sudo sh apply.sh

It backs up the files it replaces to /var/backups/sensorproxy/, writes
{files},
lets Squid check them (squid -k parse) and puts the previous files back if Squid refuses them,
enables Squid at boot, starts or reloads it, and waits until it serves on port {port}. If Squid does
not serve, the previous files come back and the previous configuration is started again.

The password file holds only a SHA-512-crypt hash. Squid must be installed, and /etc/squid/squid.conf must
include /etc/squid/conf.d (Debian 10+, Ubuntu 20.04+); apply.sh checks both before changing anything.
Running it again with the same kit is safe.
"""


def build(project: Project, passwords: Mapping[Kind, str], *, made: str) -> bytes:
    """The kit as zip bytes. The proxy password (when authentication is on) is hashed here."""
    require_valid(project)
    layout = squid.SquidLayout()
    pw_hash = None
    if project.proxy.auth_enabled:
        if not (password := passwords.get(Kind.PROXY)):
            raise ValueError(f"the proxy password for {project.proxy.auth_user} is needed to make the kit")
        # The server is not known yet: SHA-512-crypt, which every release's crypt(3) verifies (bcrypt is
        # missing where crypt is glibc's own, as on Ubuntu 18.04).
        pw_hash = proxy_password_hash(None, project.proxy.auth_user, password, "sha512")
    secrets = squid.Secrets(proxy_password_hash=pw_hash, parent_password=passwords.get(Kind.PARENT))
    rendered = squid.render(project, squid.stock_conf(), layout, secrets)
    writes = [server.Write(f.path, f.content, f.mode, f.group) for f in rendered.files]
    if not project.proxy.auth_enabled:
        writes.append(server.Write(layout.passwd_file, None))  # an earlier kit's password file goes
    script = server.transaction(
        conf_dir=layout.conf_dir,
        squid_conf=layout.squid_conf,
        backup_set=None,
        writes=writes,
        enable=True,
        activate=True,
        port=project.proxy.port,
        old_port=None,
    )
    apply_sh = shell.render(
        "kit_apply.sh", SITE=project.site, MADE=made, PORT=str(project.proxy.port), CONF_DIR=layout.conf_dir
    )
    listed = ",\n".join(f"    {f.path}" for f in rendered.files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        _add(z, "sensorproxy-kit/apply.sh", apply_sh, 0o755)
        _add(z, "sensorproxy-kit/transaction.sh", script, 0o644)
        _add(z, "sensorproxy-kit/README.txt", README.format(site=project.site, made=made, files=listed,
                                                            port=project.proxy.port), 0o644)  # fmt: skip
        for f in rendered.files:
            _add(z, "sensorproxy-kit/files" + f.path, f.content, 0o644)
    return buffer.getvalue()


def _add(z: zipfile.ZipFile, name: str, text: str, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # when it was made is in the README
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, text)
