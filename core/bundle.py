"""Offline package bundles: Squid and every package it needs, as .deb files, for a server with no
package repository in reach.

`build` runs on a connected Debian or Ubuntu machine of the server's release and architecture: apt
resolves Squid's whole dependency closure as if nothing were installed (an empty dpkg status) and only
downloads. It writes an apt index (`Packages`) of the files, so the server's apt can treat the bundle
as a repository and take from it just what the server lacks, and a `bundle.json` manifest with the
release, the architecture and each file's SHA-256, checked before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.remote.server import ServerState

MANIFEST = "bundle.json"
INDEX = "Packages"  # an apt index of the bundle: the server installs from it as from a local repository
FORMAT = 1


class BundleError(ValueError):
    pass


@dataclass(frozen=True)
class Package:
    file: str
    name: str
    version: str
    arch: str
    sha256: str


@dataclass(frozen=True)
class Bundle:
    folder: Path  # where the .deb files are (a zip is unpacked to a temporary folder)
    os_id: str
    os_version: str
    arch: str
    packages: tuple[Package, ...]
    index_sha256: str

    @property
    def files(self) -> list[Path]:
        return [self.folder / INDEX] + [self.folder / p.file for p in self.packages]

    @property
    def size(self) -> int:
        return sum((self.folder / p.file).stat().st_size for p in self.packages)

    def problem(self, state: ServerState) -> str | None:
        """Why this bundle cannot install on a server in `state`, or None."""
        made_for = f"{self.os_id} {self.os_version} ({self.arch})"
        server = f"{state.os_id} {state.os_version} ({state.arch})"
        if (self.os_id, self.os_version, self.arch) != (state.os_id, state.os_version, state.arch):
            return f"the bundle is for {made_for}, but the server runs {server}; build one on a machine like the server"
        if not any(p.name == "squid" for p in self.packages):
            return "the bundle has no squid package"
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _package(path: Path) -> Package:
    """name_version_arch.deb, as apt names downloads (the version's ':' written as %3a)."""
    stem = path.name.removesuffix(".deb")
    parts = stem.split("_")
    if len(parts) != 3 or not path.name.endswith(".deb"):
        raise BundleError(f"{path.name} is not named like a Debian package (name_version_arch.deb)")
    name, version, arch = parts
    return Package(path.name, name, urllib.parse.unquote(version), arch, _sha256(path))


def _stanza(path: Path, package: Package) -> str:
    """The package's control fields as dpkg-deb reads them, plus where the file is and its checksum."""
    control = subprocess.run(["dpkg-deb", "--field", str(path)], capture_output=True, text=True, check=True).stdout
    return f"{control.rstrip()}\nFilename: ./{package.file}\nSize: {path.stat().st_size}\nSHA256: {package.sha256}\n\n"


def _os_release() -> dict[str, str]:
    values = {}
    for line in Path("/etc/os-release").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value.strip().strip('"')
    return values


def build(dest: Path) -> Bundle:
    """Download Squid and its whole dependency closure into `dest` (Debian or Ubuntu, with apt)."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise BundleError("building a bundle needs apt-get and dpkg: run it on Debian or Ubuntu like the server")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "partial").mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile("w", prefix="sensorproxy-empty-status.") as empty:
        # An empty dpkg status: apt resolves as for a bare system, so the bundle holds everything.
        proc = subprocess.run(
            [
                "apt-get", "install", "--download-only", "--no-install-recommends", "-y", "-q",
                "-o", f"Dir::State::status={empty.name}",
                "-o", f"Dir::Cache::archives={dest}",
                "-o", "Debug::NoLocking=1",
                "squid",
            ],
            capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, check=False,
        )  # fmt: skip
    shutil.rmtree(dest / "partial", ignore_errors=True)
    (dest / "lock").unlink(missing_ok=True)
    if proc.returncode != 0:
        raise BundleError(f"apt-get could not download Squid (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
    release = _os_release()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    packages = tuple(_package(p) for p in sorted(dest.glob("*.deb")))
    (dest / INDEX).write_text("".join(_stanza(dest / p.file, p) for p in packages))
    manifest = {
        "format": FORMAT,
        "os_id": release.get("ID", ""),
        "os_version": release.get("VERSION_ID", ""),
        "arch": arch,
        "packages": [p.__dict__ for p in packages],
        "index_sha256": _sha256(dest / INDEX),
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return load(dest)


def load(path: Path) -> Bundle:
    """A bundle folder, or a zip of one; every file is checked against the manifest's SHA-256. A zip is
    unpacked to a temporary folder that lives as long as the returned bundle (none is left on failure)."""
    path = Path(path)
    if not (path.is_file() and zipfile.is_zipfile(path)):
        return _load_folder(path)
    folder = Path(tempfile.mkdtemp(prefix="sensorproxy-bundle."))
    try:
        with zipfile.ZipFile(path) as z:
            for member in z.infolist():
                name = Path(member.filename).name  # flat: no paths from the zip reach the disk
                if name and not member.is_dir():
                    (folder / name).write_bytes(z.read(member))
        bundle = _load_folder(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(bundle, shutil.rmtree, folder, True)
    return bundle


def _load_folder(path: Path) -> Bundle:
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{path} has no {MANIFEST}; make bundles with `sensorproxy bundle DIR`")
    try:
        data = json.loads(manifest_path.read_text())
        packages = tuple(Package(**p) for p in data["packages"])
        bundle = Bundle(path, data["os_id"], data["os_version"], data["arch"], packages, data["index_sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{manifest_path} is damaged ({exc})") from None
    if data.get("format") != FORMAT:
        raise BundleError(f"{manifest_path} has format {data.get('format')!r}; this sensorproxy reads {FORMAT}")
    if not (path / INDEX).is_file() or _sha256(path / INDEX) != bundle.index_sha256:
        raise BundleError(f"{path / INDEX} is missing or damaged; copy the bundle again")
    for p in packages:
        if Path(p.file).name != p.file or not (path / p.file).is_file():
            raise BundleError(f"{p.file} is listed in {MANIFEST} but missing from {path}")
        if _sha256(path / p.file) != p.sha256:
            raise BundleError(f"{p.file} does not match its checksum in {MANIFEST}; copy the bundle again")
    return bundle
