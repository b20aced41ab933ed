"""The server releases sensorproxy can make offline bundles for: where each one's packages come from and
which archive keys sign them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KEYS = Path(__file__).with_name("data") / "keys"
ARCHES = ("amd64", "arm64")


@dataclass(frozen=True)
class Keyring:
    file: Path
    origin: str  # where the keys came from, shown with them (`sensorproxy bundle --keys`)


# Taken from Debian trixie's packages, which apt verified against Debian's archive signature.
KEYRINGS = {
    "debian": Keyring(
        KEYS / "debian-archive-keyring.pgp",
        "debian-archive-keyring 2025.1 (Debian trixie), /usr/share/keyrings/debian-archive-keyring.pgp",
    ),
    # Only the 2018 archive key, which signs every release from 18.04 on: the 2012 key's binding
    # signature uses SHA-1, which the OpenPGP policy refuses, and the CD image key signs no archive.
    "ubuntu": Keyring(
        KEYS / "ubuntu-archive-keyring.pgp",
        "ubuntu-keyring 2023.11.28.1-0.2 (Debian trixie), "
        "the 2018 key of /usr/share/keyrings/ubuntu-archive-keyring.gpg",
    ),
}


@dataclass(frozen=True)
class Release:
    name: str  # the codename, as in VERSION_CODENAME and the archive's suites
    os_id: str  # as in os-release ID
    version: str  # as in os-release VERSION_ID
    title: str

    @property
    def suites(self) -> tuple[str, ...]:
        """The release and its updates; security updates come with `security_suite`."""
        return (self.name, f"{self.name}-updates")

    @property
    def security_suite(self) -> str:
        return f"{self.name}-security"

    def mirror(self, arch: str) -> str:
        if self.os_id == "debian":
            return "http://deb.debian.org/debian"
        return "http://archive.ubuntu.com/ubuntu" if arch == "amd64" else "http://ports.ubuntu.com/ubuntu-ports"

    def security_mirror(self, mirror: str) -> str:
        """Debian keeps security updates in an archive of their own; Ubuntu's are in `mirror`, the main one."""
        return "http://deb.debian.org/debian-security" if self.os_id == "debian" else mirror

    @property
    def keyring(self) -> Keyring:
        return KEYRINGS[self.os_id]


RELEASES = {
    r.name: r
    for r in (
        Release("bullseye", "debian", "11", "Debian 11"),
        Release("bookworm", "debian", "12", "Debian 12"),
        Release("trixie", "debian", "13", "Debian 13"),
        Release("bionic", "ubuntu", "18.04", "Ubuntu 18.04"),
        Release("focal", "ubuntu", "20.04", "Ubuntu 20.04"),
        Release("jammy", "ubuntu", "22.04", "Ubuntu 22.04"),
        Release("noble", "ubuntu", "24.04", "Ubuntu 24.04"),
    )
}


def release(name: str) -> Release:
    try:
        return RELEASES[name]
    except KeyError:
        raise ValueError(f"unknown release {name!r}: choose one of {', '.join(RELEASES)}") from None


def of_server(os_id: str, os_version: str) -> Release | None:
    """The release a server runs, from its os-release ID and VERSION_ID."""
    return next((r for r in RELEASES.values() if (r.os_id, r.version) == (os_id, os_version)), None)
