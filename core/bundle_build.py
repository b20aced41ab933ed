"""Making an offline bundle on any workstation, Windows or Linux, in plain Python (no apt, dpkg or gpg):
the release's signed indexes are verified against its archive keys, Squid's dependency closure is
chosen from them, and every .deb is checked by the SHA-256 its index gives before it is written."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core import archive, depsolve, fetch, paths, releases
from core.bundle import FORMAT, INDEX, MANIFEST, Bundle, BundleError, Package, load
from core.fetch import sha256_of


def deb_name(p: archive.Package) -> str:
    """name_version_arch.deb, as apt names downloads (the version's ':' written as %3a)."""
    return f"{p.name}_{p.version.replace(':', '%3a')}_{p.fields.get('Architecture', '')}.deb"


@dataclass(frozen=True)
class Made:
    bundle: Bundle
    assumed: tuple[str, ...]  # what it relies on the server having (every server of the release has it)
    signers: tuple[str, ...]  # the archive keys that signed the indexes it came from
    downloaded: int  # bytes fetched in this run (the rest came from the cache)


def build(
    dest: Path,
    release_name: str,
    arch: str = "amd64",
    *,
    mirror: str | None = None,
    security_mirror: str | None = None,
    security: bool = True,
    keyring: Path | None = None,
    cache: Path | None = None,
    progress: fetch.Progress | None = None,
) -> Made:
    """Squid and its whole dependency closure for `release_name` on `arch`, from the release's archive,
    verified from its signed index down to every .deb, written to `dest` (replaced only once complete)."""
    try:
        rel = releases.release(release_name)
    except ValueError as exc:
        raise BundleError(str(exc)) from None
    if arch not in releases.ARCHES:
        raise BundleError(f"unknown architecture {arch!r}: choose one of {', '.join(releases.ARCHES)}")
    downloads = fetch.Cache((cache or paths.cache_dir()) / "packages", progress)
    main = (mirror or rel.mirror(arch)).rstrip("/")
    sources = [(main, s) for s in rel.suites]
    security_base = (security_mirror or rel.security_mirror(main)).rstrip("/")
    if security:
        sources.append((security_base, rel.security_suite))
    try:
        certs = archive.keys(keyring or rel.keyring.file)
        available: list[archive.Package] = []
        signers = []
        for base, name in sources:
            suite = archive.suite(base, name, certs)
            signers.append(suite.signer)
            available += archive.packages(downloads, suite, "main", arch)
        closure = depsolve.closure(available, arch)
        debs = downloads.get([p.wanted() for p in closure.packages])
    except fetch.FetchError as exc:
        hint = ""
        if security and security_base != main and exc.url.startswith(f"{security_base}/"):
            hint = f"; if the security archive no longer carries {rel.name}, --no-security leaves it out"
        raise BundleError(f"{exc}{hint}") from None
    except (archive.ArchiveError, depsolve.DependencyError) as exc:
        raise BundleError(str(exc)) from None
    _write(dest, rel, arch, list(zip(closure.packages, debs, strict=True)))
    return Made(load(dest), closure.assumed, tuple(dict.fromkeys(signers)), downloads.downloaded)


def _write(dest: Path, rel: releases.Release, arch: str, debs: list[tuple[archive.Package, Path]]) -> None:
    """The bundle in a sibling folder first, then in place of `dest`: an earlier bundle there stays
    whole until the new one is."""
    if dest.exists() and any(dest.iterdir()) and not (dest / MANIFEST).is_file():
        raise BundleError(f"{dest} holds other files; choose an empty folder or an earlier bundle")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        stanzas, listed = [], []
        for p, local in debs:
            file = deb_name(p)
            shutil.copyfile(local, work / file)
            stanzas.append(re.sub(r"^Filename:.*$", f"Filename: ./{file}", p.stanza, count=1, flags=re.M) + "\n")
            listed.append(Package(file, p.name, p.version, p.fields.get("Architecture", ""), p.fields["SHA256"]))
        (work / INDEX).write_text("".join(stanzas))
        manifest = {
            "format": FORMAT,
            "os_id": rel.os_id,
            "os_version": rel.version,
            "release": rel.name,
            "arch": arch,
            "packages": [p.__dict__ for p in listed],
            "index_sha256": sha256_of(work / INDEX),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
