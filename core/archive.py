"""A Debian or Ubuntu archive read as apt reads it, in plain Python: a suite's `InRelease` (or `Release` +
`Release.gpg`) verified against the distribution's archive keys, then its `Packages` index by the SHA-256
the signed file gives.

OpenPGP is Sequoia's (pysequoia): its standard policy refuses what apt's refuses (SHA-1 bindings,
expired or revoked keys)."""

from __future__ import annotations

import gzip
import lzma
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from pathlib import Path

import pysequoia

from core import fetch

# The compressions tried in this order: all in the standard library.
INDEX_NAMES = (("Packages.xz", lzma.decompress), ("Packages.gz", gzip.decompress), ("Packages", bytes))
# Only what choosing and fetching packages needs; a stanza is kept whole for the bundle's own index.
FIELD = re.compile(
    r"^(Package|Version|Architecture|Depends|Pre-Depends|Provides|Priority|Essential|Filename|Size|SHA256):"
    r"[ \t]*(.*)$",
    re.M,
)


class ArchiveError(Exception):
    pass


@dataclass(frozen=True)
class Suite:
    """A suite whose signed index was verified: its files under dists/SUITE/ and their checksums."""

    base: str  # the archive's URL
    name: str
    files: dict[str, tuple[str, int]]  # path -> (sha256, size)
    signer: str  # the key that signed it, as its user ID says

    def url(self, path: str) -> str:
        return f"{self.base}/dists/{self.name}/{path}"


@dataclass(eq=False)  # not frozen: a release's index makes 60,000 of them, and frozen ones cost twice
class Package:
    """One stanza of an index; its fields are read when first asked for (most never are)."""

    name: str
    stanza: str  # as the archive's index gives it, ending with a newline
    base: str  # the archive it comes from
    index: str  # the index's path, for messages

    @cached_property
    def fields(self) -> dict[str, str]:
        fields = dict(FIELD.findall(self.stanza))
        if not {"Package", "Version", "Filename", "Size", "SHA256"} <= fields.keys():
            raise ArchiveError(f"{self.index}: {self.name} lacks its version, file or checksum")
        return fields

    @property
    def version(self) -> str:
        return self.fields["Version"]

    def has(self, line: str) -> bool:
        """Whether the stanza has this whole line (a cheap test before any field is read)."""
        return f"\n{line}\n" in self.stanza

    def wanted(self) -> fetch.Wanted:
        path = self.fields["Filename"]
        return fetch.Wanted(f"{self.base}/{path}", path, self.fields["SHA256"], int(self.fields["Size"]))


def keys(keyring: Path) -> list[pysequoia.Cert]:
    try:
        return pysequoia.Cert.split_file(str(keyring))
    except (OSError, RuntimeError, ValueError) as exc:
        raise ArchiveError(f"{keyring} is not an OpenPGP keyring: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _verified(data: bytes, certs: list[pysequoia.Cert], name: str, signature: bytes | None = None) -> tuple[bytes, str]:
    """The signed text and who signed it, or an error naming the file."""
    try:
        if signature is None:
            result = pysequoia.verify(data, lambda ids: certs)
            signed = result.bytes or b""
        else:
            result = pysequoia.verify(data, lambda ids: certs, signature=pysequoia.Sig.from_bytes(signature))
            signed = data
    except (RuntimeError, ValueError) as exc:
        raise ArchiveError(
            f"{name} is not signed by the archive's keys ({_first_line(exc)}); nothing is kept"
        ) from None
    if not result.valid_sigs:
        raise ArchiveError(f"{name} carries no valid signature; nothing is kept")
    by = {c.fingerprint: c for c in certs}
    cert = by.get(result.valid_sigs[0].certificate)
    return signed, (str(cert.user_ids[0]) if cert and cert.user_ids else result.valid_sigs[0].certificate)


def _release_fields(text: str) -> tuple[dict[str, str], dict[str, tuple[str, int]]]:
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, int]] = {}
    section = ""
    for line in text.splitlines():
        if line[:1] in (" ", "\t"):
            if section == "SHA256":
                digest, size, path = line.split()
                files[path] = (digest, int(size))
            continue
        key, _, value = line.partition(":")
        section = key
        fields[key] = value.strip()
    return fields, files


def suite(base: str, name: str, certs: list[pysequoia.Cert], now: datetime | None = None) -> Suite:
    """The suite's signed index, verified; any doubt is an error naming the file."""
    where = f"dists/{name}"
    inline = fetch.small(f"{base}/{where}/InRelease")
    if inline is not None:
        signed, signer = _verified(inline, certs, f"{where}/InRelease")
    else:
        release = fetch.small(f"{base}/{where}/Release")
        signature = fetch.small(f"{base}/{where}/Release.gpg")
        if release is None or signature is None:
            raise ArchiveError(f"{base} has no {where}/InRelease or Release + Release.gpg: is {name} on this mirror?")
        signed, signer = _verified(release, certs, f"{where}/Release", signature)
    fields, files = _release_fields(signed.decode("utf-8", "replace"))
    if name not in (fields.get("Suite"), fields.get("Codename")):
        raise ArchiveError(
            f"{where}/InRelease is signed for {fields.get('Codename') or fields.get('Suite')!r}, not {name!r}; "
            "the mirror serves another suite there"
        )
    if (until := fields.get("Valid-Until")) and parsedate_to_datetime(until) < (now or datetime.now(UTC)):
        raise ArchiveError(f"{where}/InRelease expired on {until}: the mirror is out of date")
    return Suite(base, name, files, signer)


def packages(cache: fetch.Cache, source: Suite, component: str, arch: str) -> list[Package]:
    """Every package of the suite's component for `arch` (and `all`), from its index, checked."""
    folder = f"{component}/binary-{arch}"
    for file, unpack in INDEX_NAMES:
        if (path := f"{folder}/{file}") in source.files:
            digest, size = source.files[path]
            name = f"dists/{source.name}/{path}"
            [local] = cache.get([fetch.Wanted(source.url(path), name, digest, size)])
            # Kept unpacked beside the checked file: decompressing a release's index costs most of a second.
            unpacked = local.with_name(f"{local.name}.unpacked")
            if not unpacked.is_file():
                work = unpacked.with_name(f"{unpacked.name}.part")
                work.write_bytes(unpack(local.read_bytes()))
                work.replace(unpacked)
            return parse(unpacked.read_bytes().decode("utf-8", "replace"), source.base, name)
    if not any(p.startswith(f"{component}/") for p in source.files):
        return []  # a suite may lack a component (an empty -updates): nothing to take from it
    raise ArchiveError(f"dists/{source.name}/{folder} has no Packages index for {arch}")


def parse(text: str, base: str, name: str) -> list[Package]:
    """The index's stanzas, each with its name; no other field is read yet."""
    found = []
    for stanza in text.split("\n\n"):
        if not (stanza := stanza.strip("\n")):
            continue
        if not stanza.startswith("Package: "):
            raise ArchiveError(f"{name}: a stanza that does not begin with its Package field: {stanza[:80]!r}")
        found.append(
            Package(stanza[9 : stanza.find("\n") if "\n" in stanza else None].strip(), f"{stanza}\n", base, name)
        )
    return found


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    user_id: str
    expires: datetime | None  # None: never


def describe(keyring: Path) -> list[KeyInfo]:
    """The keys of a keyring, with when each expires."""
    return [
        KeyInfo(c.fingerprint.upper(), str(c.user_ids[0]) if c.user_ids else "", c.expiration) for c in keys(keyring)
    ]
