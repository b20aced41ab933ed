"""What the proxy server has now (one batched probe), and the shell scripts that change it.

Scripts are POSIX sh, sent on stdin and run as root; their few arguments are paths and names, never
secrets. Each prints machine-readable sections so one round trip answers many questions.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from core.squid import SquidLayout

BACKUP_ROOT = "/var/backups/sensorproxy"
KEEP_BACKUPS = 10
LOCK_FILE = "/run/lock/sensorproxy.lock"
OWNER_FILE = "/run/lock/sensorproxy.owner"
CACHE_LOG = "/var/log/squid/cache.log"
SUPPORTED_OS = {"debian", "ubuntu"}
MIN_FREE_KB = 20 * 1024


@dataclass(frozen=True)
class RemoteFile:
    content: str
    mode: int
    owner: str
    group: str


@dataclass(frozen=True)
class ServerState:
    os_id: str
    os_name: str
    arch: str
    free_kb: int
    squid_version: str | None  # None: Squid is not installed
    systemd: bool
    dpkg_locked: bool
    running: bool
    enabled: bool
    listening: frozenset[int]
    backups: tuple[str, ...]  # backup sets, oldest first
    cache_log_size: int
    files: dict[str, RemoteFile | None] = field(default_factory=dict)  # managed paths: None = absent
    has_factory_copy: bool = False

    def text(self, path: str) -> str | None:
        f = self.files.get(path)
        return f.content if f else None


PROBE = r"""
conf_dir=$1; shift
sec() { printf '\n@@sp %s\n' "$1"; }
sec os; cat /etc/os-release 2>/dev/null
sec arch; dpkg --print-architecture 2>/dev/null || uname -m
sec free; df -Pk "$conf_dir" 2>/dev/null | awk 'NR==2 {print $4}' || df -Pk /etc | awk 'NR==2 {print $4}'
sec squid; command -v squid >/dev/null 2>&1 && squid -v 2>/dev/null | head -n 1
sec systemd; [ -d /run/systemd/system ] && echo yes || echo no
sec dpkg-lock
for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock; do
  [ -e "$f" ] || continue
  ino=$(stat -c %i "$f")
  awk -v i="$ino" '{ for (k = 1; k <= NF; k++) { n = split($k, a, ":"); if (n == 3 && a[3] == i) f = 1 } }
    END { exit !f }' /proc/locks && echo held
done
sec running
if command -v squid >/dev/null 2>&1 && squid -k check >/dev/null 2>&1; then echo yes; else echo no; fi
sec enabled
if [ -d /run/systemd/system ]; then systemctl is-enabled squid 2>/dev/null
else ls /etc/rc2.d/S*squid >/dev/null 2>&1 && echo enabled || echo disabled; fi
sec listening
for t in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$t" ] && awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' "$t"
done
sec backups; ls -1 /var/backups/sensorproxy 2>/dev/null
sec cachelog; stat -c %s /var/log/squid/cache.log 2>/dev/null || echo 0
sec factory; [ -e "$conf_dir/squid.conf.factory" ] && echo yes || echo no
for p in "$@"; do
  sec "file $p"
  if [ -f "$p" ]; then stat -c '%a %U %G' "$p"; base64 < "$p"; fi
done
"""


def parse_probe(output: str, paths: list[str]) -> ServerState:
    sections: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("@@sp "):
            current = line[5:]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)

    def one(name: str) -> str:
        return next((s.strip() for s in sections.get(name, []) if s.strip()), "")

    os_release = {}
    for line in sections.get("os", []):
        key, _, value = line.partition("=")
        os_release[key.strip()] = value.strip().strip('"')
    files: dict[str, RemoteFile | None] = {}
    for path in paths:
        body = [s for s in sections.get(f"file {path}", []) if s.strip()]
        if not body:
            files[path] = None
            continue
        mode, owner, group = body[0].split()
        content = base64.b64decode("".join(body[1:])).decode("utf-8", "replace")
        files[path] = RemoteFile(content, int(mode, 8), owner, group)
    version = one("squid")
    return ServerState(
        os_id=os_release.get("ID", "unknown"),
        os_name=os_release.get("PRETTY_NAME", os_release.get("ID", "unknown")),
        arch=one("arch"),
        free_kb=int(one("free") or 0),
        squid_version=version.removeprefix("Squid Cache: Version ") if version else None,
        systemd=one("systemd") == "yes",
        dpkg_locked="held" in sections.get("dpkg-lock", []),
        running=one("running") == "yes",
        enabled=one("enabled") in {"enabled", "static", "alias"},
        listening=frozenset(int(p, 16) for p in sections.get("listening", []) if p.strip()),
        backups=tuple(sorted(s.strip() for s in sections.get("backups", []) if s.strip())),
        cache_log_size=int(one("cachelog") or 0),
        files=files,
        has_factory_copy=one("factory") == "yes",
    )


def managed_paths(layout: SquidLayout) -> list[str]:
    return [layout.squid_conf, layout.dropin, layout.passwd_file]


def os_problem(state: ServerState) -> str | None:
    if state.os_id not in SUPPORTED_OS:
        return f"the server runs {state.os_name}; sensorproxy supports Debian and Ubuntu"
    if state.free_kb and state.free_kb < MIN_FREE_KB:
        return (
            f"only {state.free_kb // 1024} MB free under /etc/squid; at least {MIN_FREE_KB // 1024} MB needed"
        )
    return None


INSTALL = r"""
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout="$1" update -q || exit 10
apt-get -o DPkg::Lock::Timeout="$1" install -y -q squid || exit 11
"""

# Back up the files about to change (and squid.conf.factory, once). The manifest says which existed,
# so a restore also removes files that did not exist before.
BACKUP = r"""
set -e
conf_dir=$1; set_name=$2; keep=$3; shift 3
conf=$conf_dir/squid.conf
[ -e "$conf.factory" ] || [ ! -e "$conf" ] || cp -p "$conf" "$conf.factory"
dir=/var/backups/sensorproxy/$set_name
mkdir -p -m 0700 /var/backups/sensorproxy
mkdir -m 0700 "$dir"
i=0
for p in "$@"; do
  i=$((i + 1))
  if [ -e "$p" ]; then cp -p "$p" "$dir/$i"; echo "present $i $p" >> "$dir/manifest"
  else echo "absent $i $p" >> "$dir/manifest"; fi
done
ls -1 /var/backups/sensorproxy | head -n -"$keep" | while read -r old; do
  rm -rf "/var/backups/sensorproxy/$old"
done
"""

# Put a backup set back: each file staged beside its target and renamed over it; absent ones removed.
RESTORE = r"""
set -e
dir=/var/backups/sensorproxy/$1
[ -f "$dir/manifest" ] || { echo "no backup set $1" >&2; exit 3; }
while read -r state i p; do
  if [ "$state" = present ]; then
    t=$(mktemp "$(dirname "$p")/.sensorproxy-tmp.XXXXXX")
    cp -p "$dir/$i" "$t"
    mv -f "$t" "$p"
  else
    rm -f "$p"
  fi
done < "$dir/manifest"
"""

RESTORE_FACTORY = r"""
set -e
conf_dir=$1; shift
[ -f "$conf_dir/squid.conf.factory" ] || { echo "no squid.conf.factory on this server" >&2; exit 3; }
t=$(mktemp "$conf_dir/.sensorproxy-tmp.XXXXXX")
cp -p "$conf_dir/squid.conf.factory" "$t"
mv -f "$t" "$conf_dir/squid.conf"
rm -f "$@"
"""

CLEAN_STAGING = r"""
find "$1" "$1/conf.d" -maxdepth 1 -name '.sensorproxy-tmp.*' -type f -delete 2>/dev/null || true
"""

PARSE = r"""
squid -k parse -f "$1" 2>&1
"""

ENABLE = r"""
if [ -d /run/systemd/system ]; then systemctl enable squid
else update-rc.d squid enable 2>&1 || update-rc.d squid defaults; fi
"""

# Start when stopped, reconfigure when running (squid -k reconfigure parses first and keeps serving
# on a bad config; a raw HUP would kill it). Prints cache.log's size first, for the FATAL check.
ACTIVATE = r"""
stat -c %s /var/log/squid/cache.log 2>/dev/null || echo 0
if squid -k check >/dev/null 2>&1; then
  squid -k reconfigure
elif [ -d /run/systemd/system ]; then
  systemctl start squid
else
  service squid start >/dev/null 2>&1 || true
fi
"""

# Waits until Squid runs and listens on the port, then reports FATAL lines logged since the offset.
VERIFY = r"""
port=$1; offset=$2; hexport=$(printf '%04X' "$port")
i=0; running=no; listening=no
while [ $i -lt 60 ]; do
  squid -k check >/dev/null 2>&1 && running=yes || running=no
  if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
     awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'; then
    listening=yes
  else
    listening=no
  fi
  [ $running = yes ] && [ $listening = yes ] && break
  i=$((i + 1)); sleep 0.25
done
echo "running=$running"
echo "listening=$listening"
tail -c +"$((offset + 1))" /var/log/squid/cache.log 2>/dev/null | grep -E 'FATAL|Bungled' | tail -n 20
"""
