"""Debian's archive replayed on loopback, for the bundle tests and benchmarks: a file the replay lacks is
fetched once from deb.debian.org as set-up (as the release roots are) and kept in
/var/cache/sensorproxy-tests, so what sensorproxy is given is Debian's own signed bytes while it only ever
talks to 127.0.0.1. Indexes are fetched again after a few hours: the security archive's InRelease is
valid for days only."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request

from tests.archive_mirror import Server
from tests.lab.releases import CACHE

UPSTREAM = "http://deb.debian.org"  # the set-up's source: Debian's archive, the registry this machine may use
INDEX_HOURS = 6


class DebianReplay(Server):
    """Serves /debian/… and /debian-security/… from the cache, filling it from Debian on a miss."""

    def source(self, path: str) -> bytes | None:
        if not path.startswith(("debian/", "debian-security/")) or ".." in path:
            return None
        local = CACHE / "debian-mirror" / path
        fresh = "/pool/" in f"/{path}" or (local.is_file() and time.time() - local.stat().st_mtime < INDEX_HOURS * 3600)
        if not (local.is_file() and fresh):
            try:
                with urllib.request.urlopen(f"{UPSTREAM}/{path}", timeout=120) as answer:  # noqa: S310
                    data = answer.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                if not local.is_file():
                    raise
                data = local.read_bytes()  # Debian busy: the copy kept is signed and still valid for days
            except (urllib.error.URLError, OSError):
                if not local.is_file():
                    raise
                data = local.read_bytes()
            if local.name == "InRelease" and local.is_file() and local.read_bytes() != data:
                shutil.rmtree(local.parent)  # the suite changed: its indexes are fetched again, to match
            local.parent.mkdir(parents=True, exist_ok=True)
            local.with_name(f"{local.name}.part").write_bytes(data)
            local.with_name(f"{local.name}.part").replace(local)
        return local.read_bytes()
