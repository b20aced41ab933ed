"""The scripts sensorproxy runs on servers (core/remote/sh/*.sh, POSIX sh), filled one way.

In a script, `@NAME@` is a path from PATHS, a constant from VALUES, an exit code (`@EXIT_NAME@`, from
Exit) or a value the caller passes; a line `@include FILE@` is another script, filled the same way.
Whatever is left unfilled is an error, so a misspelt name never reaches a server. Values go in as they
are: constants are plain words (checked here), and callers pass only text they checked. Anything that
varies per server or per run goes in as the script's arguments or its settings, never spliced in.

`render(name, root=DIR)` puts every path under DIR: tests run the scripts as any user on any Linux
machine with fake `squid`, `systemctl` and `apt-get` (tests/unit/test_scripts_run.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib import resources

from core.model import DEFAULT_PORT

RUN_DIR = "/run/sensorproxy"  # root-only: the locks, and a change's staged files
LOCK_FILE = f"{RUN_DIR}/lock"  # held by a run's session, from preflight to its end
OWNER_FILE = f"{RUN_DIR}/owner"
# Held by the scripts that change things (transaction, install) for as long as they run, which can
# outlive a dropped connection: the next run waits for it before it looks at the server.
CHANGE_LOCK = f"{RUN_DIR}/change.lock"
BACKUP_ROOT = "/var/backups/sensorproxy"
KEEP_BACKUPS = 10
PATHS = {
    "RUN_DIR": RUN_DIR,
    "LOCK_FILE": LOCK_FILE,
    "OWNER_FILE": OWNER_FILE,
    "CHANGE_LOCK": CHANGE_LOCK,
    "BACKUP_ROOT": BACKUP_ROOT,
    "CACHE_LOG": "/var/log/squid/cache.log",
    "INSTALL_LOG_DIR": "/var/log",
    "BUNDLE_DIR": "/var/cache",
    "OS_RELEASE": "/etc/os-release",
    "DPKG_DIR": "/var/lib/dpkg",
    "PROC_LOCKS": "/proc/locks",
    "PROC_NET": "/proc/net",
    "SYSTEMD_DIR": "/run/systemd/system",
    "RC2_DIR": "/etc/rc2.d",
    "SQUID_LIB": "/usr/lib/squid",
    "SQUID3_LIB": "/usr/lib/squid3",  # Squid 3 packages (Ubuntu 18.04)
}

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
LOGIN_REFUSED = "login-refused"  # the verify step's log line when the helper refused the proxy login
VALUES = {
    "KEEP_BACKUPS": str(KEEP_BACKUPS),
    "DEFAULT_PORT": str(DEFAULT_PORT),
    "PROBE_PASSWORD": PROBE_PASSWORD,
    "PROBE_BCRYPT": PROBE_HASHES["bcrypt"],
    "PROBE_SHA512": PROBE_HASHES["sha512"],
    "LOGIN_REFUSED": LOGIN_REFUSED,
}


class Exit(IntEnum):
    """Each way a script fails, with its own exit code; `FAILURES` says what failed, in words."""

    NO_BACKUP = 3
    APT_UPDATE = 10
    APT_INSTALL = 11
    RUN_DIR = 12
    BUNDLE_SUM = 13
    INSTALL_LOG = 14
    BUNDLE_COPY = 15
    INSTALL_LOST = 16
    STAGE = 17
    SCRATCH = 18
    REPO_UNREACHABLE = 19  # apt reached no package repository; nothing was changed
    BACKUP = 20
    WRITE = 21
    REJECTED = 30  # `squid -k parse` refused the new files; the previous ones are back
    NOT_SERVING = 40  # Squid did not serve them (or refused the proxy login); the previous ones are back


FAILURES = {
    Exit.NO_BACKUP: "reading the backup set",
    Exit.APT_UPDATE: "apt-get update",
    Exit.APT_INSTALL: "apt-get install squid",
    Exit.RUN_DIR: f"making sensorproxy's root-only directory {RUN_DIR}",
    Exit.BUNDLE_SUM: "checking the bundle on the server (a file was damaged in transfer)",
    Exit.INSTALL_LOG: f"making the install's log under {PATHS['INSTALL_LOG_DIR']}",
    Exit.BUNDLE_COPY: f"copying the bundle on the server (under {PATHS['BUNDLE_DIR']})",
    Exit.INSTALL_LOST: "the install (its exit status was lost)",
    Exit.STAGE: f"staging the new files under {RUN_DIR}",
    Exit.SCRATCH: "making a temporary directory on the server",
    Exit.REPO_UNREACHABLE: "reaching the server's package repository",
    Exit.BACKUP: f"backing up the files to {BACKUP_ROOT}",
    Exit.WRITE: "writing the new files",
    Exit.REJECTED: "squid -k parse",
    Exit.NOT_SERVING: "verifying that Squid serves",
}


def failure(returncode: int, default: str) -> str:
    """What a script's exit code says failed; `default` for codes that are not the script's own."""
    try:
        return FAILURES[Exit(returncode)]
    except ValueError:
        return default


_TOKEN = re.compile(r"@([A-Z][A-Z0-9_]*)@")
_INCLUDE = re.compile(r"^@include ([a-z_]+\.sh)@$", re.MULTILINE)
_PLAIN = re.compile(r"[A-Za-z0-9/._:$=+-]+")
assert all(_PLAIN.fullmatch(v) for v in [*PATHS.values(), *VALUES.values()]), "constants must be plain words"


class TemplateError(ValueError):
    pass


@cache
def source(name: str) -> str:
    """A script file as shipped (package data)."""
    return (resources.files("core.remote") / "sh" / name).read_text(encoding="utf-8")


def render(name: str, *, root: str = "", **given: str) -> str:
    """The script `name` with its includes, paths (under `root`), constants, exit codes and `given`."""
    table = {key: root + path for key, path in PATHS.items()} | VALUES | {f"EXIT_{e.name}": str(e.value) for e in Exit}
    table |= given

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in table:
            raise TemplateError(f"{name}: nothing fills @{match.group(1)}@")
        return table[match.group(1)]

    # Filled before the includes go in, and in one pass: nothing put in is read again as a name.
    text = _TOKEN.sub(fill, source(name))
    return _INCLUDE.sub(lambda m: render(m.group(1), root=root, **given).rstrip("\n"), text)


# --- what the transaction prints, typed -------------------------------------------------------------


@dataclass(frozen=True)
class StepLine:
    """`@@step NAME STATUS [WHAT]`: a step began (running), changed, failed or was rolled back."""

    step: str
    status: str
    said: str


@dataclass(frozen=True)
class LogLine:
    """`@@log NAME TEXT`: a line of a step's output (Squid's warnings, why verify failed)."""

    step: str
    text: str


@dataclass(frozen=True)
class TimeLine:
    """`@@time SECONDS`: when the new configuration took effect, by the server's clock."""

    at: float


Line = StepLine | LogLine | TimeLine


def parse_line(line: str) -> Line | None:
    """One line of a change script's output, typed; None for anything else (a command's own output)."""
    kind, _, rest = line.partition(" ")
    if kind == "@@step":
        step, _, text = rest.partition(" ")
        status, _, said = text.strip().partition(" ")
        return StepLine(step, status, said) if step and status else None
    if kind == "@@log":
        step, _, text = rest.partition(" ")
        return LogLine(step, text) if step else None
    if kind == "@@time":
        try:
            return TimeLine(float(rest))
        except ValueError:
            return None
    return None
