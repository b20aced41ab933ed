"""What the proxy server has now (one batched probe), and the shell scripts that change it.

Scripts are POSIX sh, sent on stdin and run as root; their few arguments are paths and names, never
secrets. Each prints machine-readable sections so one round trip answers many questions.
"""

from __future__ import annotations

import base64
import posixpath
import secrets as _random
import shlex
from dataclasses import dataclass, field
from urllib.parse import quote

from core.model import DEFAULT_PORT
from core.remote.errors import BadServerAnswer
from core.squid import SquidLayout

BACKUP_ROOT = "/var/backups/sensorproxy"
KEEP_BACKUPS = 10
# In a root-only directory: root writes the owner file, and in world-writable /run/lock another local
# user could have planted a symlink there pointing at a system file (see docs/security.md).
RUN_DIR = "/run/sensorproxy"
LOCK_FILE = f"{RUN_DIR}/lock"  # held by a run's session, from preflight to its end
OWNER_FILE = f"{RUN_DIR}/owner"
# Held by the server-side scripts that change things (transaction, install) for as long as they run,
# which can outlive a dropped connection: the next run waits for it before it looks at the server.
CHANGE_LOCK = f"{RUN_DIR}/change.lock"
MAKE_RUN_DIR = f"mkdir -p -m 0700 {RUN_DIR} && [ -O {RUN_DIR} ] && [ ! -L {RUN_DIR} ] || exit 12"
SUPPORTED_OS = {"debian", "ubuntu"}
MIN_FREE_KB = 20 * 1024


@dataclass(frozen=True)
class RemoteFile:
    content: str
    mode: int
    owner: str
    group: str
    mtime: float = 0.0  # the server's clock (seconds since the epoch); 0: not read


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
    os_version: str = ""  # VERSION_ID: "12", "22.04"
    now: float = 0.0  # the server's clock when it answered; 0: not read
    ncsa_helper: str = ""  # the proxy-login helper's path; "": not found (Squid not installed)
    hash_schemes: frozenset[str] = frozenset()  # what that helper verifies: "bcrypt", "sha512"

    def text(self, path: str) -> str | None:
        f = self.files.get(path)
        return f.content if f else None

    @property
    def changed_at(self) -> float | None:
        """When the managed files last changed, by the server's clock (None: none of them exists)."""
        return max((f.mtime for f in self.files.values() if f is not None), default=None)


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
sec now; date +%s
# The proxy-login helper, found where the packages put it (squid3 used /usr/lib/squid3), and the hash
# schemes it verifies: the real helper checks a throwaway password against throwaway hashes of it.
helper=
for h in /usr/lib/squid/basic_ncsa_auth /usr/lib/squid3/basic_ncsa_auth; do
  [ -x "$h" ] && { helper=$h; break; }
done
sec helper; echo "$helper"
sec hashes
if [ -n "$helper" ] && t=$(mktemp -d); then
  echo 'probe:@BCRYPT@' > "$t/bcrypt"
  echo 'probe:@SHA512@' > "$t/sha512"
  for scheme in bcrypt sha512; do  # the helper answers "OK" (Squid 5: "OK ") or "ERR …"
    echo 'probe @PASSWORD@' | "$helper" "$t/$scheme" 2>/dev/null | head -n 1 | grep -q '^OK' && echo "$scheme"
  done
  rm -rf "$t"
fi
for p in "$@"; do
  sec "file $p"
  if [ -f "$p" ]; then stat -c '%a %U %G %Y' "$p"; base64 < "$p"; fi
done
"""


# Throwaway hashes of a throwaway password, for learning which schemes the server's helper verifies;
# nothing secret (tests/unit/test_shacrypt.py checks they are hashes of PROBE_PASSWORD).
PROBE_PASSWORD = "sensorproxy-probe"  # noqa: S105 - public by design
PROBE_HASHES = {
    "bcrypt": "$2b$04$BFVdCsXrXepuCVhTOtzhw.KAQeXsirn1KkBH.0pyIHEmwPSzIvHw.",
    "sha512": (
        "$6$rounds=1000$sensorproxyprobe$"
        "0oW40r6m1Ikl93E/iPJIufjaDGlevtG7cRlHN8.7VkE5UPGzKMqwMT74pGGYH6WXrswZgnPaqyEtdgxMGFgzR/"
    ),
}
HASH_SCHEMES = tuple(PROBE_HASHES)  # strongest first
PROBE = (
    PROBE.replace("@BCRYPT@", PROBE_HASHES["bcrypt"])
    .replace("@SHA512@", PROBE_HASHES["sha512"])
    .replace("@PASSWORD@", PROBE_PASSWORD)
)


def parse_probe(output: str, paths: list[str]) -> ServerState:
    """The probe's answer; anything unreadable in it is a BadServerAnswer, never a crash."""
    try:
        return _parse_probe(output, paths)
    except (ValueError, IndexError) as exc:  # binascii.Error is a ValueError
        raise BadServerAnswer(f"the server's answer to the probe could not be read ({exc})") from None


def _parse_probe(output: str, paths: list[str]) -> ServerState:
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
        files[path] = remote_file(body)
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
        os_version=os_release.get("VERSION_ID", ""),
        now=float(one("now") or 0),
        ncsa_helper=one("helper"),
        hash_schemes=frozenset(s.strip() for s in sections.get("hashes", []) if s.strip() in HASH_SCHEMES),
    )


def remote_file(lines: list[str]) -> RemoteFile:
    """A file as the scripts print it: `stat -c '%a %U %G'` (and `%Y`, its mtime, from the probe), then
    its content in base64."""
    try:
        mode, owner, group, *mtime = lines[0].split()
        content = base64.b64decode("".join(lines[1:]), validate=True).decode("utf-8", "replace")
        return RemoteFile(content, int(mode, 8), owner, group, float(mtime[0]) if mtime else 0.0)
    except (ValueError, IndexError) as exc:
        raise BadServerAnswer(f"a file the server sent could not be read ({exc})") from None


def managed_paths(layout: SquidLayout) -> list[str]:
    return [layout.squid_conf, layout.dropin, layout.sensors_file, layout.passwd_file]


def os_problem(state: ServerState) -> str | None:
    if state.os_id not in SUPPORTED_OS:
        return f"the server runs {state.os_name}; sensorproxy supports Debian and Ubuntu"
    if state.free_kb and state.free_kb < MIN_FREE_KB:
        return f"only {state.free_kb // 1024} MB free under /etc/squid; at least {MIN_FREE_KB // 1024} MB needed"
    return None


# apt runs in the background, writing to a log the app follows: if the connection drops, the install
# still completes instead of leaving dpkg half-way, and the next run waits for it (CHANGE_LOCK).
DETACHED = r"""
trap '' HUP PIPE
@MAKE_RUN_DIR@
exec 8>>@CHANGE_LOCK@; flock 8
log=$(mktemp /var/log/sensorproxy-install.XXXXXX) || exit 12
# fd 8 (the lock) stays with this shell: a daemon a package starts must not inherit it and hold it forever
( trap '' HUP PIPE; install_squid "$@" > "$log" 2>&1; echo $? > "$log.rc" ) 8>&- &
tail -n +1 -f --pid=$! "$log" 2>/dev/null
wait
rc=$(cat "$log.rc" 2>/dev/null || echo 12)
rm -f "$log" "$log.rc"
exit "$rc"
""".replace("@CHANGE_LOCK@", CHANGE_LOCK).replace("@MAKE_RUN_DIR@", MAKE_RUN_DIR)

INSTALL = (
    r"""
install_squid() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout="$1" update -q || return 10
  apt-get -o DPkg::Lock::Timeout="$1" install -y -q squid || return 11
}
"""
    + DETACHED
)


def install_bundle(files: list[tuple[str, str]]) -> str:
    """Install Squid from an uploaded bundle, never from the network. `files` are (sha256, name), the
    apt index `Packages` among them. Args: the upload directory, the dpkg lock timeout. The files are
    copied into a root-only directory and checked there; apt then uses that directory as its only
    repository (its own lists in that directory; the server's sources are not read or changed) and
    installs what Squid needs and the server lacks. Exit 11 apt failed, 12 a copy failed, 13 a checksum
    did not match."""
    for _digest, name in files:
        if not all(c.isalnum() or c in "._+-~%" for c in name):
            raise ValueError(f"unexpected file name in the bundle: {name!r}")
    listing = "\n".join(f"{digest} {name}" for digest, name in files)
    return (
        """install_squid() {
  export DEBIAN_FRONTEND=noninteractive
  src=$1; lock_timeout=$2
  dir=$(mktemp -d /var/cache/sensorproxy-bundle.XXXXXX) || return 12
  trap 'rm -rf "$dir" "$src"' EXIT
  while read -r sum file; do
    cp "$src/$file" "$dir/$file" || return 12
    echo "$sum  $dir/$file" | sha256sum -c --quiet - >/dev/null 2>&1 || { echo "checksum mismatch: $file"; return 13; }
  done <<'SENSORPROXY_FILES'
"""
        + listing
        + """
SENSORPROXY_FILES
  mkdir -p "$dir/lists/partial" "$dir/parts"
  printf 'deb [trusted=yes] file:%s ./\\n' "$dir" > "$dir/sources.list"
  set -- -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/parts" \\
    -o Dir::State::Lists="$dir/lists" -o APT::Get::List-Cleanup=0
  echo "installing Squid from the bundle; nothing is downloaded"
  apt-get "$@" update -q >/dev/null || return 11
  apt-get "$@" -o DPkg::Lock::Timeout="$lock_timeout" install -y -q --no-download --no-install-recommends squid \\
    || return 11
}
"""
        + DETACHED
    )


# One backup set's files, printed as `@@sp present|absent PATH`, then mode and owners, then base64.
READ_BACKUP = r"""
dir=@BACKUP_ROOT@/$1
[ -f "$dir/manifest" ] || { echo "no backup set $1" >&2; exit 3; }
while read -r state i p; do
  printf '\n@@sp %s %s\n' "$state" "$p"
  # `if`, not `&&`: a last file that was absent must not make the whole read fail
  if [ "$state" = present ]; then stat -c '%a %U %G' "$dir/$i"; base64 < "$dir/$i"; fi
done < "$dir/manifest"
""".replace("@BACKUP_ROOT@", BACKUP_ROOT)


def lock_and_probe(owner: str) -> str:
    """A command that takes the server lock, prints LOCKED and the probe, then holds the lock until its
    stdin closes (the SSH session ends). When someone else holds it: BUSY and who, since when. It waits
    a few seconds first, for a holder whose connection just dropped and which sshd is still ending."""
    body = (
        f"owner=$1; shift; {MAKE_RUN_DIR}; exec 9>>{LOCK_FILE}\n"
        f'if ! flock -w 3 9; then echo "BUSY $(cat {OWNER_FILE} 2>/dev/null)"; exit 0; fi\n'
        f'printf "%s\\n" "$owner" > {OWNER_FILE}\n'
        f"exec 8>>{CHANGE_LOCK}; flock -w 900 8; flock -u 8\n"
        "echo LOCKED\n" + PROBE + "\necho @@sp-end\nexec cat >/dev/null\n"
    )
    return "sh -c " + shlex.quote(body) + " sh " + shlex.quote(owner)


@dataclass(frozen=True)
class Login:
    """The proxy user's login, for proving after activation that the helper accepts it."""

    helper: str
    passwd_file: str
    user: str
    password: str  # piped to the helper inside the script, which travels on stdin: never in argv


LOGIN_REFUSED = "login-refused"
LOGIN_WORKS = "; its helper accepts the proxy login"


def _login_check(login: Login | None) -> str:
    """`login_ok`: the real helper, reading the real password file, answers OK for the proxy user (both
    %-encoded, as Squid hands them over); printf is the shell's own, so the password is in no argv."""
    if login is None:
        return "login_ok() { :; }"
    q = shlex.quote
    line = f"{quote(login.user, safe='')} {quote(login.password, safe='')}"
    return (
        f"login_ok() {{ printf '%s\\n' {q(line)} | {q(login.helper)} {q(login.passwd_file)} 2>/dev/null"
        f" | head -n 1 | grep -q '^OK' || {{ why={LOGIN_REFUSED}; return 1; }}; }}"
    )


@dataclass(frozen=True)
class Write:
    path: str
    content: str | None  # None: remove the file
    mode: int = 0o644
    group: str = "root"


# Put back the files of the backup set $set_dir (only in a transaction that writes files).
_RESTORE = r"""
restore() {
  while read -r state i p; do
    if [ "$state" = present ]; then
      t=$(mktemp "$(dirname "$p")/.sensorproxy-tmp.XXXXXX") && cp -p "$set_dir/$i" "$t" && mv -f "$t" "$p"
    else
      rm -f "$p"
    fi
  done < "$set_dir/manifest"
}
"""
_PRELUDE = r"""
set -u
trap '' HUP PIPE   # a dropped SSH connection must not stop a change half-way
step() { printf '@@step %s %s %s\n' "$1" "$2" "${3:-}"; }  # name, status, what happened
log() { printf '@@log %s %s\n' "$1" "$2"; }
cache_log=/var/log/squid/cache.log
activate() {
  if squid -k check >/dev/null 2>&1; then squid -k reconfigure
  elif [ -d /run/systemd/system ]; then systemctl start squid
  else service squid start >/dev/null 2>&1 || true; fi
}
log_size() { stat -c %s "$cache_log" 2>/dev/null || echo 0; }
# Serving means: the process answers, the port listens, and (where cache.log exists) Squid logged that
# it accepts connections on that port after `offset`. A FATAL line since then fails at once.
serving() {
  port=$1; offset=$2; hex=$(printf '%04X' "$port"); n=0
  while [ $n -lt 150 ]; do
    new=$(tail -c +"$((offset + 1))" "$cache_log" 2>/dev/null)
    why=$(printf '%s\n' "$new" | grep -E 'FATAL|Bungled' | tail -n 1)
    [ -z "$why" ] || return 1
    if squid -k check >/dev/null 2>&1 &&
       cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
         awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' &&
       { [ ! -f "$cache_log" ] || printf '%s\n' "$new" | grep -q "Accepting HTTP Socket connections.*:$port remote="; }
    then return 0; fi
    n=$((n + 1)); sleep 0.1
  done
  why="Squid is not serving on port $port"
  return 1
}
"""


def transaction(
    *,
    conf_dir: str,
    squid_conf: str,
    backup_set: str | None,
    writes: list[Write],
    enable: bool,
    activate: bool,
    port: int,
    old_port: int | None,
    login: Login | None = None,
) -> str:
    """One script that makes the whole change on the server, so no network failure can leave it half
    done: back up → stage and rename → `squid -k parse` (restore on failure) → enable → start or
    reconfigure → wait until Squid serves (restore and bring the old config back on failure).
    It prints `@@step NAME STATUS` and `@@log NAME TEXT` lines; exit 0 done, 20-22 a step failed,
    30 Squid refused the config, 40 Squid did not serve it (or, with `login`, its helper refused the
    proxy user's password: `@@log verify login-refused`). Without `backup_set` the backup is named by
    the time it runs, and without `old_port` the previous port is read from the files it replaces: both
    for the offline kit, which is made before anyone knows the server."""
    q = shlex.quote
    # Each variable only where a step uses it (shellcheck checks every shape of this script).
    out = [_PRELUDE, MAKE_RUN_DIR, f"exec 8>>{CHANGE_LOCK}; flock 8"]
    if writes:
        out += [_RESTORE, f"squid_conf={q(squid_conf)}"]
    if activate:
        out.append(f"port={port}")
    if writes and activate and old_port is not None:  # the port to bring back if the new config fails
        out.append(f"old_port={old_port}")
    elif writes and activate:
        paths = " ".join(q(w.path) for w in writes)
        out.append(
            f"old_port=$(sed -n 's/^http_port[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p' {paths} 2>/dev/null | head -n 1)"
            f"; old_port=${{old_port:-{DEFAULT_PORT}}}"
        )
    if writes:
        name = q(backup_set) if backup_set is not None else '"$(date -u +%Y%m%dT%H%M%S.%NZ)"'
        out.append(f"set_dir={q(BACKUP_ROOT)}/{name}")
        out += [
            "step backup running",
            'factory="$squid_conf.factory"',
            '{ [ -e "$factory" ] || [ ! -e "$squid_conf" ] || cp -p "$squid_conf" "$factory"; } &&',
            f'mkdir -p -m 0700 {BACKUP_ROOT} && mkdir -m 0700 "$set_dir" && : > "$set_dir/manifest" ||'
            " { step backup failed; exit 20; }",
        ]
        for i, w in enumerate(writes, start=1):
            out.append(
                f'if [ -e {q(w.path)} ]; then cp -p {q(w.path)} "$set_dir/{i}" && echo "present {i} {w.path}"; '
                f'else echo "absent {i} {w.path}"; fi >> "$set_dir/manifest" || {{ step backup failed; exit 20; }}'
            )
        out += [
            f'ls -1 {BACKUP_ROOT} | head -n -{KEEP_BACKUPS} | while read -r old; do rm -rf {BACKUP_ROOT}/"$old"; done',
            'step backup changed "backup in $set_dir"',
            "step write running",
            f"find {q(conf_dir)} {q(conf_dir + '/conf.d')} -maxdepth 1 -name '.sensorproxy-tmp.*' -type f"
            " -delete 2>/dev/null",
            "staged=''",
        ]
        moves = []
        for i, w in enumerate(writes, start=1):
            if w.content is None:
                moves.append(f"rm -f {q(w.path)}")
                continue
            tag = "SENSORPROXY_EOF_" + _random.token_hex(12)
            if tag in w.content or not w.content.endswith("\n"):
                raise ValueError(f"cannot stage {w.path}")
            directory = posixpath.dirname(w.path)
            out += [
                f"t{i}=$(mktemp {q(directory)}/.sensorproxy-tmp.XXXXXX) || {{ step write failed; exit 21; }}",
                f'staged="$staged $t{i}"',
                f"cat > \"$t{i}\" <<'{tag}' &&\n{w.content}{tag}",
                f'chown root:{q(w.group)} "$t{i}" && chmod {w.mode:04o} "$t{i}" ||'
                " { rm -f $staged; step write failed; exit 21; }",
            ]
            moves.append(f'mv -f "$t{i}" {q(w.path)}')
        out += [
            "{ " + " && ".join(moves) + "; } || { restore; step write rolled_back; exit 21; }",
            "step write changed",
            "step validate running",
            'parsed=$(squid -k parse -f "$squid_conf" 2>&1); rc=$?',
            "if [ $rc -ne 0 ] || printf '%s\\n' \"$parsed\" | grep -qE 'FATAL|Bungled'; then",
            "  printf '%s\\n' \"$parsed\" | grep -E 'FATAL|Bungled|ERROR' | tail -n 20 | sed 's/^/@@log validate /'",
            "  restore; step write rolled_back; step validate failed; exit 30",
            "fi",
            "printf '%s\\n' \"$parsed\" | grep -E 'ERROR|WARNING' | sed 's/^/@@log validate /'",
            'step validate changed "squid -k parse accepted it"',
        ]
    if enable:
        out += [
            "step enable running",
            "if [ -d /run/systemd/system ]; then systemctl enable squid 2>&1",
            # sysvinit: back to the package's own links (start in 2-5), whatever state they were left in
            "else { update-rc.d -f squid remove && update-rc.d squid defaults; } 2>&1; fi | sed 's/^/@@log enable /'",
            'step enable changed "enabled at boot"',
        ]
    else:
        out.append('step enable unchanged "already enabled at boot"')
    if activate:
        out += [
            "step activate running",
            "was_running=no; squid -k check >/dev/null 2>&1 && was_running=yes",
            "offset=$(log_size)",
            "activate 8>&- 2>&1 | sed 's/^/@@log activate /'",
            'if [ "$was_running" = yes ]; then step activate changed "reconfigured Squid (squid -k reconfigure)"',
            'else step activate changed "started Squid"; fi',
            "step verify running",
            _login_check(login),
            'if serving "$port" "$offset" && login_ok; then',
            f'  step verify changed "Squid serves on port $port{LOGIN_WORKS if login else ""}"',
            "  printf '@@time %s\n' \"$(date +%s)\"  # when the new configuration took effect, by the server's clock",
            "  exit 0",
            "fi",
            'log verify "$why"',
        ]
        if writes:
            out += [
                "restore; step write rolled_back",
                'if [ "$was_running" = yes ]; then',
                "  offset=$(log_size); activate 8>&- 2>&1 | sed 's/^/@@log verify /'",
                '  if serving "$old_port" "$offset"; then log verify "the previous configuration serves again"',
                '  else log verify "the previous configuration does not serve either: $why"; fi',
                "fi",
            ]
        out += ["step verify failed", "exit 40"]
    else:
        out += ['step activate unchanged "nothing to reload"', 'step verify unchanged "Squid runs and nothing changed"']
    return "\n".join(out) + "\n"
