"""Offline package bundles: Squid and every package it needs, as .deb files, for a server with no
package repository in reach (made by `core.bundle_build`).

A bundle is a folder (or a zip of one): the .deb files, an apt index of them (`Packages`), so the
server's apt can treat the bundle as a repository and take from it just what the server lacks, and a
`bundle.json` manifest with the release, the architecture and each file's SHA-256, checked before
anything is installed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core import releases
from core.fetch import sha256_of
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
        if (self.os_id, self.os_version, self.arch) != (state.os_id, state.os_version, state.arch):
            server = releases.of_server(state.os_id, state.os_version)
            remedy = (
                f"make one with `sensorproxy bundle DIR --release {server.name} --arch {state.arch}`"
                if server
                else "sensorproxy makes bundles for " + ", ".join(r.title for r in releases.RELEASES.values())
            )
            made_for = _describe(self.os_id, self.os_version, self.arch)
            runs = _describe(state.os_id, state.os_version, state.arch)
            return f"the bundle is for {made_for}, but the server runs {runs}: {remedy}"
        if not any(p.name == "squid" for p in self.packages):
            return "the bundle has no squid package"
        return None


def _describe(os_id: str, os_version: str, arch: str) -> str:
    known = releases.of_server(os_id, os_version)
    return f"{known.title} {known.name} ({arch})" if known else f"{os_id} {os_version} ({arch})"


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
        raise BundleError(f"{path} has no {MANIFEST}; make bundles with `sensorproxy bundle DIR --release NAME`")
    try:
        data = json.loads(manifest_path.read_text())
        packages = tuple(Package(**p) for p in data["packages"])
        bundle = Bundle(path, data["os_id"], data["os_version"], data["arch"], packages, data["index_sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{manifest_path} is damaged ({exc})") from None
    if data.get("format") != FORMAT:
        raise BundleError(f"{manifest_path} has format {data.get('format')!r}; this sensorproxy reads {FORMAT}")
    if not (path / INDEX).is_file() or sha256_of(path / INDEX) != bundle.index_sha256:
        raise BundleError(f"{path / INDEX} is missing or damaged; copy the bundle again")
    for p in packages:
        if Path(p.file).name != p.file or not (path / p.file).is_file():
            raise BundleError(f"{p.file} is listed in {MANIFEST} but missing from {path}")
        if sha256_of(path / p.file) != p.sha256:
            raise BundleError(f"{p.file} does not match its checksum in {MANIFEST}; copy the bundle again")
    return bundle
