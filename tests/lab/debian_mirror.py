"""Debian's archive replayed on loopback, for the bundle tests and benchmarks: a file the replay lacks is
fetched once from deb.debian.org as set-up (as the release roots are) and kept in
/var/cache/sensorproxy-tests, so what sensorproxy is given is Debian's own signed bytes while it only ever
talks to 127.0.0.1. Indexes are fetched again after a few hours: the security archive's InRelease is
valid for days only. Debian's CDN now and then drops a connection: each fetch is tried a few times
before the kept copy (or, with none, the failure) is served."""

from __future__ import annotations

import http.client
import shutil
import time
import urllib.error
import urllib.request

from tests.archive_mirror import Server
from tests.lab.releases import CACHE

UPSTREAM = "http://deb.debian.org"  # the set-up's source: Debian's archive, the registry this machine may use
INDEX_HOURS = 6
TRIES = 3  # with 10 s each and the pauses, within the 30 s sensorproxy waits for a first byte


class DebianReplay(Server):
    """Serves /debian/… and /debian-security/… from the cache, filling it from Debian on a miss."""

    def source(self, path: str) -> bytes | None:
        if not path.startswith(("debian/", "debian-security/")) or ".." in path:
            return None
        local = CACHE / "debian-mirror" / path
        fresh = "/pool/" in f"/{path}" or (local.is_file() and time.time() - local.stat().st_mtime < INDEX_HOURS * 3600)
        if not (local.is_file() and fresh):
            try:
                data = self.upstream(path)
            except FileNotFoundError:
                return None
            except (OSError, http.client.HTTPException):
                if not local.is_file():
                    raise
                data = local.read_bytes()  # Debian busy: the copy kept is signed and still valid for days
            if local.name == "InRelease" and local.is_file() and local.read_bytes() != data:
                shutil.rmtree(local.parent)  # the suite changed: its indexes are fetched again, to match
            local.parent.mkdir(parents=True, exist_ok=True)
            local.with_name(f"{local.name}.part").write_bytes(data)
            local.with_name(f"{local.name}.part").replace(local)
        return local.read_bytes()

    @staticmethod
    def upstream(path: str) -> bytes:
        """Debian's copy of `path`, tried TRIES times; FileNotFoundError when Debian has no such file."""
        for attempt in range(TRIES):
            try:
                with urllib.request.urlopen(f"{UPSTREAM}/{path}", timeout=10) as answer:  # noqa: S310
                    data: bytes = answer.read()
                    return data
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise FileNotFoundError(path) from None
                if attempt == TRIES - 1:
                    raise
            except (OSError, http.client.HTTPException):  # a dropped connection, a timeout, a short read
                if attempt == TRIES - 1:
                    raise
            time.sleep(2**attempt)
        raise AssertionError("unreachable")
