"""Package archives for the bundle tests, served on loopback: a small one made here and signed with a test
key (any release name, Debian's or Ubuntu's layout), and an HTTP server that answers byte ranges, can cut a
transfer short, reset a connection or answer 503, can serve other bytes in place of a file, and records
what was asked."""

from __future__ import annotations

import http.server
import lzma
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

import pysequoia


def signing_key(path: Path) -> pysequoia.Tsk:
    """A signing key, its public half written to `path` (a --keyring)."""
    key = pysequoia.Tsk.generate("sensorproxy test archive <archive@test.invalid>")
    path.write_bytes(bytes(key.extract_certificate()))
    return key


@dataclass
class Deb:
    name: str
    version: str
    fields: dict[str, str] = field(default_factory=dict)
    arch: str = "amd64"
    size: int = 2000

    def body(self) -> bytes:
        return (f"{self.name} {self.version} ".encode() * (self.size // 8 + 1))[: self.size]


def write_suite(root: Path, suite: str, debs: list[Deb], key: pysequoia.Tsk, *, codename: str | None = None,
                arch: str = "amd64", inline: bool = True, extra: str = "") -> None:  # fmt: skip
    """dists/SUITE (signed) and the pool files of `debs`, under `root`."""
    stanzas = []
    for d in debs:
        path = f"pool/main/{d.name[0]}/{d.name}/{d.name}_{d.version.replace(':', '%3a')}_{d.arch}.deb"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(d.body())
        fields = {"Package": d.name, "Version": d.version, "Architecture": d.arch, **d.fields}
        fields |= {"Filename": path, "Size": str(d.size), "SHA256": sha256(d.body()).hexdigest()}
        stanzas.append("".join(f"{k}: {v}\n" for k, v in fields.items()))
    index = "\n".join(stanzas).encode()
    folder = root / "dists" / suite / "main" / f"binary-{arch}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Packages.xz").write_bytes(lzma.compress(index))
    listed = {
        f"main/binary-{arch}/Packages.xz": (folder / "Packages.xz").read_bytes(),
        f"main/binary-{arch}/Packages": index,  # listed but not served, as mirrors often do
    }
    release = (
        f"Origin: Test\nSuite: {suite}\nCodename: {codename or suite}\nArchitectures: {arch}\nComponents: main\n"
        f"{extra}SHA256:\n" + "".join(f" {sha256(b).hexdigest()} {len(b)} {p}\n" for p, b in listed.items())
    ).encode()
    signer = key.signer()
    if inline:
        (root / "dists" / suite / "InRelease").write_bytes(
            pysequoia.sign(signer, release, mode=pysequoia.SignatureMode.CLEAR)
        )
    else:
        (root / "dists" / suite / "Release").write_bytes(release)
        (root / "dists" / suite / "Release.gpg").write_bytes(
            pysequoia.sign(signer, release, mode=pysequoia.SignatureMode.DETACHED)
        )


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0].lstrip("/")
        self.server.asked.append((path, self.headers.get("Range")))
        if self.server.drops.get(path):  # hang up without an answer: a connection reset
            self.server.drops[path] -= 1
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if self.server.busy.get(path):
            self.server.busy[path] -= 1
            self.send_error(503)
            return
        body = self.server.replaced.get(path)
        if body is None:
            body = self.server.source(path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if (wanted := self.headers.get("Range")) and wanted.startswith("bytes="):
            start = int(wanted[6:].split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = self.server.cut.pop(path, None)
        if path in self.server.slow:  # a little at a time, for a download someone stops
            for at in range(start, len(body), 16384):
                self.wfile.write(body[at : at + 16384])
                time.sleep(self.server.slow[path])
        else:
            self.wfile.write(body[start:cut])


class Server(http.server.ThreadingHTTPServer):
    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.root = root
        self.asked: list[tuple[str, str | None]] = []
        self.replaced: dict[str, bytes] = {}  # path -> other bytes served in its place
        self.cut: dict[str, int] = {}  # path -> the next transfer of it stops after this many bytes
        self.slow: dict[str, float] = {}  # path -> seconds to wait after each 16 KiB of it
        self.drops: dict[str, int] = {}  # path -> how many requests for it get their connection reset
        self.busy: dict[str, int] = {}  # path -> how many requests for it get HTTP 503

    def source(self, path: str) -> bytes | None:
        file = (self.root / path).resolve()
        inside = self.root.resolve() in file.parents
        return file.read_bytes() if inside and file.is_file() else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serve(root: Path, server_class: type[Server] = Server) -> Iterator[Server]:
    server = server_class(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
