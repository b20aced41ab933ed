"""A proxy server in a temporary directory, for running sensorproxy's real server scripts as any user on
any Linux machine: every path the scripts use lives under `root` (SquidLayout.root), and `squid`,
`systemctl`, `apt-get` and `chown` are stand-ins on PATH. LocalSession runs the scripts with `sh` on
this machine where SshSession would run them over SSH. Nothing here needs root, a network or the lab.

The stand-ins are small on purpose: squid parses by refusing a file that says BROKEN, serves by logging
what real Squid logs and listing its port in a fake /proc/net/tcp, and cannot open a port listed in
`fake/taken-ports`; apt-get installs squid by copying the stand-in into place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from core import squid
from core.model import SshTarget
from core.remote.session import Result

FAKE_SQUID = r"""#!/bin/sh
# Enough of Squid for sensorproxy's scripts, against the files under $FAKE_ROOT.
conf=$FAKE_ROOT/etc/squid
state=$FAKE_ROOT/fake
serve() {
  port=$(cat "$conf/squid.conf" "$conf"/conf.d/*.conf 2>/dev/null |
    sed -n 's/^http_port[[:space:]]*\([0-9][0-9]*\).*/\1/p' | tail -n 1)
  if grep -qx "$port" "$state/taken-ports" 2>/dev/null; then
    echo "FATAL: Cannot open HTTP Port [::]:$port" >> "$FAKE_ROOT/var/log/squid/cache.log"
    rm -f "$state/running"
    return
  fi
  printf '  sl  local_address rem_address   st\n   0: 00000000:%04X 00000000:0000 0A\n' "$port" \
    > "$FAKE_ROOT/proc/net/tcp"
  echo "Accepting HTTP Socket connections at conn1 local=[::]:$port remote=[::] FD 10" \
    >> "$FAKE_ROOT/var/log/squid/cache.log"
  touch "$state/running"
}
case "$*" in
  -v) echo "Squid Cache: Version 5.7" ;;
  "-k check") [ -e "$state/running" ] ;;
  "-k parse -f "*)
    if grep -rqs BROKEN "$conf"; then echo "FATAL: Bungled $3 line 1: BROKEN"; exit 1; fi
    echo "2026/12/02 10:00:00| WARNING: a fake Squid parsed this" ;;
  "-k reconfigure"|start) serve ;;
  *) echo "fake squid: unexpected arguments: $*" >&2; exit 2 ;;
esac
"""

FAKE_SYSTEMCTL = r"""#!/bin/sh
state=$FAKE_ROOT/fake
case "$1" in
  is-enabled) if [ -e "$state/enabled" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  enable) touch "$state/enabled"; echo "Created symlink for squid.service." ;;
  start) squid start ;;
  *) echo "fake systemctl: unexpected arguments: $*" >&2; exit 2 ;;
esac
"""

# Owners without root: chown records them by inode, `cp -p` carries the record to the copy, and stat
# reports them (everything else as root's, as on a server).
FAKE_CHOWN = r"""#!/bin/sh
echo "$(/usr/bin/stat -c %i "$2") $1" >> "$FAKE_ROOT/fake/owners"
"""
FAKE_CP = r"""#!/bin/sh
/bin/cp "$@" || exit
if [ "$1" = -p ] && [ $# -eq 3 ] && rec=$(grep "^$(/usr/bin/stat -c %i "$2") " "$FAKE_ROOT/fake/owners"); then
  echo "$(/usr/bin/stat -c %i "$3") ${rec##* }" >> "$FAKE_ROOT/fake/owners"
fi
"""
FAKE_STAT = r"""#!/bin/sh
case "$2" in
  *%U*)
    file=$3
    out=$(/usr/bin/stat "$@") || exit
    owners=$(grep "^$(/usr/bin/stat -c %i "$file") " "$FAKE_ROOT/fake/owners" 2>/dev/null | tail -n 1)
    owners=${owners##* }; owners=${owners:-root:root}
    printf '%s\n' "$out" | awk -v u="${owners%%:*}" -v g="${owners#*:}" '{ $2 = u; $3 = g; print }' ;;
  *) exec /usr/bin/stat "$@" ;;
esac
"""

FAKE_APT_GET = r"""#!/bin/sh
state=$FAKE_ROOT/fake
for arg in "$@"; do
  case "$arg" in
    update)
      if [ -e "$state/no-repository" ]; then  # as apt 2.6 says it: warnings, and exit 0
        echo "Err:1 http://deb.debian.org/debian bookworm InRelease"
        echo "  Temporary failure resolving 'deb.debian.org'"
        echo "Reading package lists..."
        echo "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease " \
          " Temporary failure resolving 'deb.debian.org'" >&2
        echo "W: Some index files failed to download. They have been ignored, or old ones used instead." >&2
        exit 0
      fi
      echo "Hit:1 http://deb.debian.org/debian bookworm InRelease"; echo "Reading package lists..."; exit 0 ;;
    install)
      echo "$*" > "$state/apt-install-args"
      cp "$state/squid" "$FAKE_ROOT/bin/squid"; echo "Setting up squid (5.7-2) ..."; exit 0 ;;
  esac
done
echo "fake apt-get: unexpected arguments: $*" >&2; exit 2
"""


@dataclass
class FakeServer:
    root: Path

    @property
    def layout(self) -> squid.SquidLayout:
        return squid.SquidLayout(conf_dir=str(self.root / "etc/squid"), root=str(self.root))

    @classmethod
    def make(cls, root: Path, *, squid_installed: bool = True, port: int = 3128) -> FakeServer:
        for d in ("etc/squid/conf.d", "bin", "fake", "proc/net", "run/systemd/system", "var/log/squid", "var/cache"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (fake)"\n')
        (root / "proc/locks").write_text("")
        (root / "fake/owners").write_text("")
        # The stock squid.conf, with its include pointing into this root.
        stock = squid.stock_conf().replace("/etc/squid/", f"{root}/etc/squid/")
        (root / "etc/squid/squid.conf").write_text(stock.replace("http_port 3128", f"http_port {port}"))
        tools = {
            "systemctl": FAKE_SYSTEMCTL, "apt-get": FAKE_APT_GET, "chown": FAKE_CHOWN, "cp": FAKE_CP, "stat": FAKE_STAT,
        }  # fmt: skip
        for name, text in tools.items():
            (root / "bin" / name).write_text(text)
            (root / "bin" / name).chmod(0o755)
        (root / "fake/squid").write_text(FAKE_SQUID)
        (root / "fake/squid").chmod(0o755)
        if squid_installed:
            shutil.copy(root / "fake/squid", root / "bin/squid")
        return cls(root)

    def env(self) -> dict[str, str]:
        return {"PATH": f"{self.root}/bin:/usr/bin:/bin", "FAKE_ROOT": str(self.root), "LC_ALL": "C"}

    def start_squid(self) -> None:
        subprocess.run(["squid", "-k", "reconfigure"], env=self.env(), check=True)

    def read(self, path: str) -> str:
        return Path(path).read_text()


class LocalProcess:
    """A held command (the server lock): the parts of a paramiko channel setup uses."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.stderr = ""

    @property
    def closed(self) -> bool:
        return self.process.returncode is not None

    def shutdown_write(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()

    def close(self) -> None:
        if self.process.returncode is None:
            self.shutdown_write()
            self.process.wait(timeout=30)
            assert self.process.stdout is not None
            assert self.process.stderr is not None
            self.stderr = self.process.stderr.read().decode()
            self.process.stdout.close()
            self.process.stderr.close()


@dataclass
class LocalSession:
    """Runs what SshSession would run on a server with `sh` here, inside a FakeServer."""

    server: FakeServer
    target: SshTarget = field(default_factory=lambda: SshTarget(host="fake-server", user="me"))
    commands: list[str] = field(default_factory=list)
    client: object = True  # connected

    def connect(self) -> None:
        pass

    def close(self) -> None:
        pass

    def script(self, text: str, *args: str, timeout: float = 60, on_line: object = None) -> Result:
        self.commands.append(f"sh -s -- {' '.join(args)}")
        done = subprocess.run(
            ["sh", "-s", "--", *args], input=text, capture_output=True, text=True,
            env=self.server.env(), timeout=timeout, check=False,
        )  # fmt: skip
        if callable(on_line):
            for line in done.stdout.splitlines():
                on_line(line)
        return Result(done.returncode, done.stdout, done.stderr)

    def check(self, result: Result, what: str) -> Result:
        from core.remote.errors import CommandFailed

        if not result.ok:
            raise CommandFailed(what, result.returncode, result.stderr or result.stdout)
        return result

    def hold(self, command: str, until: str) -> tuple[LocalProcess, str]:
        self.commands.append(command)
        process = subprocess.Popen(
            ["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.server.env(),
        )  # fmt: skip
        assert process.stdout is not None
        out = b"\n"
        while f"\n{until}\n".encode() not in out and (chunk := os.read(process.stdout.fileno(), 4096)):
            out += chunk
        return LocalProcess(process), out[1:].decode()

    def finish(
        self, chan: LocalProcess, stdin: bytes, command: str, *, timeout: float, on_line: object = None
    ) -> Result:
        process = chan.process
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdin.write(stdin)
        process.stdin.close()
        out = process.stdout.read().decode()
        err = process.stderr.read().decode()
        process.wait(timeout=timeout)
        process.stdout.close()
        process.stderr.close()
        if callable(on_line):
            for line in out.splitlines():
                on_line(line)
        return Result(process.returncode, out, err)

    def ended(self, chan: LocalProcess) -> tuple[int, str]:
        chan.close()
        return chan.process.returncode, chan.stderr

    def upload(self, files: list[Path]) -> str:
        remote = tempfile.mkdtemp(prefix="upload-", dir=self.server.root / "var/cache")
        for f in files:
            shutil.copy(f, remote)
        return remote
