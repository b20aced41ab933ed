"""What the proxy server has now (one batched probe), and the scripts that change it, made ready to run.

The scripts are POSIX sh files (core/remote/sh, filled by shell.render), sent on stdin and run as root;
their few arguments are paths and names, never secrets. Each prints machine-readable sections so one
round trip answers many questions.
"""

from __future__ import annotations

import base64
import secrets as _random
import shlex
from dataclasses import dataclass, field
from urllib.parse import quote

from core.remote import shell
from core.remote.errors import BadServerAnswer
from core.squid import SquidLayout

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


HASH_SCHEMES = tuple(shell.PROBE_HASHES)  # strongest first


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


def install(*, root: str = "") -> str:
    """Installs Squid with apt. Args: the dpkg lock timeout."""
    return shell.render("install_apt.sh", root=root)


def install_bundle(files: list[tuple[str, str]], *, root: str = "") -> str:
    """Installs Squid from an uploaded bundle, never from the network. `files` are (sha256, name), the
    apt index `Packages` among them. Args: the upload directory, the dpkg lock timeout."""
    for digest, name in files:
        if not all(c.isalnum() or c in "._+-~%" for c in name):
            raise ValueError(f"unexpected file name in the bundle: {name!r}")
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"unexpected checksum in the bundle for {name}: {digest!r}")
    return shell.render("install_bundle.sh", root=root, FILES="\n".join(f"{d} {n}" for d, n in files))


def lock_and_probe(owner: str, *, root: str = "") -> str:
    """A command that takes the server lock, prints LOCKED and the probe, then holds the lock until its
    stdin closes (the SSH session ends); BUSY and who, since when, when someone else holds it."""
    return "sh -c " + shlex.quote(shell.render("lock.sh", root=root)) + " sh " + shlex.quote(owner)


@dataclass(frozen=True)
class Login:
    """The proxy user's login, for proving after activation that the helper accepts it."""

    helper: str
    passwd_file: str
    user: str
    password: str  # piped to the helper inside the script, which travels on stdin: never in argv


@dataclass(frozen=True)
class Write:
    path: str
    content: str | None  # None: remove the file
    mode: int = 0o644
    group: str = "root"


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
    root: str = "",
) -> str:
    """One script that makes the whole change (core/remote/sh/transaction.sh): its settings, the script,
    the files, then `main`. Without `backup_set` the backup is named by the time it runs, and without
    `old_port` the previous port is read from the files it replaces: both for the offline kit, which is
    made before anyone knows the server. With `login`, verify also proves the helper accepts the proxy
    user's password."""
    settings = {
        "conf_dir": conf_dir,
        "squid_conf": squid_conf,
        "backup_set": backup_set or "",
        "do_enable": "yes" if enable else "no",
        "do_activate": "yes" if activate else "no",
        "port": str(port),
        "old_port": "" if old_port is None else str(old_port),
        "login_helper": login.helper if login else "",
        "login_file": login.passwd_file if login else "",
        # %-encoded, as Squid hands them to the helper
        "login_line": f"{quote(login.user, safe='')} {quote(login.password, safe='')}" if login else "",
    }
    out = [f"{key}={shlex.quote(value)}" for key, value in settings.items()]
    out.append(shell.render("transaction.sh", root=root))
    for i, w in enumerate(writes, start=1):
        if w.content is None:
            out.append(f"drop {i} {shlex.quote(w.path)}")
            continue
        tag = "SENSORPROXY_EOF_" + _random.token_hex(12)
        if tag in w.content or not w.content.endswith("\n"):
            raise ValueError(f"cannot stage {w.path}")
        out.append(f"want {i} {w.mode:04o} {shlex.quote(w.group)} {shlex.quote(w.path)} <<'{tag}'\n{w.content}{tag}")
    out.append("main")
    return "\n".join(out) + "\n"
