"""Downloads from a package archive into a cache kept by SHA-256: a file is used only once it matches the
checksum its signed index gives, a download that stops continues where it stopped (HTTP ranges), and a
file the cache already holds is not downloaded again."""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import __version__

TIMEOUT = 30  # seconds without a byte before a download counts as stalled
TRIES = 3
PAUSE = 1.0  # seconds before the second try; twice that before the third
CHUNK = 1 << 16
Progress = Callable[[int, int, str], None]  # bytes done, bytes in all, the file being fetched


class FetchError(Exception):
    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


@dataclass(frozen=True)
class Wanted:
    url: str
    name: str  # the file's path in the archive, as messages name it
    sha256: str
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open(url: str, start: int = 0) -> http.client.HTTPResponse | None:
    """The server's answer, from byte `start` when it can; None when the file is not there. A dropped
    connection or a busy server (HTTP 500, 502-504) is tried again, TRIES times in all, as apt does
    (Acquire::Retries); a name that does not resolve, a refused connection or a timeout is not."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"{url}: a mirror is an http:// or https:// address", url)
    for attempt in range(TRIES):
        try:
            return _request(url, start)
        except (urllib.error.URLError, OSError) as exc:
            if attempt + 1 == TRIES or not _transient(exc):
                if isinstance(exc, urllib.error.HTTPError):
                    raise FetchError(f"cannot download {url}: HTTP {exc.code} {exc.reason}", url) from None
                reason = getattr(exc, "reason", None) or exc
                raise FetchError(f"cannot download {url}: {reason}", url) from None
            time.sleep(PAUSE * 2**attempt)
    raise AssertionError("unreachable")


def _request(url: str, start: int) -> http.client.HTTPResponse | None:
    headers = {"User-Agent": f"sensorproxy/{__version__}"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310  # the scheme is checked above
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310
        return response
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 404:
            return None
        if exc.code == 416:  # the partial file is not a prefix of this one: start again
            return _request(url, 0)
        raise


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in (500, 502, 503, 504)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    # Not a timeout: a mirror silent for TIMEOUT seconds is most often out of reach, and three waits would
    # only make the user wait three times as long for the same answer.
    return isinstance(reason, ConnectionResetError | ConnectionAbortedError)  # incl. RemoteDisconnected


def small(url: str) -> bytes | None:
    """A small file read whole and never cached (a release's signed index); None when it is not there."""
    response = _open(url)
    if response is None:
        return None
    with response:
        try:
            data: bytes = response.read()
            return data
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"cannot download {url}: {exc!r}", url) from None


class Cache:
    """Files by SHA-256 under `folder`; `partial/` holds downloads under way."""

    def __init__(self, folder: Path, progress: Progress | None = None) -> None:
        self.folder = folder
        self.progress = progress or (lambda done, total, name: None)
        self.downloaded = 0  # bytes fetched over the network in this run

    def path(self, want: Wanted) -> Path:
        return self.folder / want.sha256[:2] / want.sha256

    def get(self, wanted: list[Wanted]) -> list[Path]:
        """Every file, from the cache or downloaded; the first that does not match its checksum stops
        the run with its name (and is not kept)."""
        total = sum(w.size for w in wanted)
        done = 0
        paths = []
        for want in wanted:
            self.progress(done, total, want.name)
            paths.append(self._one(want, done, total))
            done += want.size
        self.progress(total, total, "")
        return paths

    def _one(self, want: Wanted, before: int, total: int) -> Path:
        final = self.path(want)
        if final.is_file() and final.stat().st_size == want.size and sha256_of(final) == want.sha256:
            return final
        part = self.folder / "partial" / want.sha256
        part.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.is_file() else 0
        if have >= want.size:
            have = 0
        response = _open(want.url, have)
        if response is None:
            raise FetchError(f"{want.name} is not on the mirror ({want.url}: HTTP 404)", want.url)
        with response:
            if response.status != 206:
                have = 0  # the server sent the whole file
            why = ""  # why the transfer stopped early; "" when it ran to its end
            with part.open("ab" if have else "wb") as out:
                got = have
                try:
                    while (chunk := response.read(CHUNK)) and got <= want.size:
                        out.write(chunk)
                        got += len(chunk)
                        self.downloaded += len(chunk)
                        self.progress(before + min(got, want.size), total, want.name)
                except (OSError, http.client.HTTPException) as exc:
                    why = f": {exc!r}"
                if not why and response.length:
                    why = f": the connection ended {response.length} bytes early"
        if why:  # what arrived stays in partial/: the next run continues from it
            raise FetchError(f"the download of {want.url} stopped at {got} of {want.size} bytes{why}", want.url)
        if part.stat().st_size != want.size or sha256_of(part) != want.sha256:
            part.unlink()
            raise FetchError(
                f"{want.name} does not match the SHA-256 its signed index gives (from {want.url}); nothing is kept",
                want.url,
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        part.replace(final)
        return final
