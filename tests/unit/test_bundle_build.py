"""Bundles made on a workstation in plain Python, against small archives served on loopback and signed
with a test key: the signature, the index and every .deb are checked and any doubt names the file; the
dependency closure is apt's; a download that stops continues; Ubuntu's layout and keys by configuration;
and the code runs as on Windows (no POSIX-only module, no external program)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import main as cli_main
from core import archive, bundle, fetch, releases
from core.bundle_build import build
from core.depsolve import DependencyError, closure
from tests.archive_mirror import Deb, serve, signing_key, write_suite

SQUID_WORLD = [
    Deb("squid", "5.7-2", {"Depends": "squid-common (= 5.7-2), libc6 (>= 2.34), adduser, "
                                      "debconf (>= 0.5) | debconf-2.0, perl:any, mail-agent | mail-transport-agent"},
        size=300_000),
    Deb("squid-common", "5.7-2", {"Depends": "lsb-base, libtool-bin (>= 2) | libltdl-any"}, arch="all"),
    Deb("libc6", "2.36-9", {"Priority": "optional", "Depends": "libgcc-s1"}),
    Deb("libgcc-s1", "12.2.0-14", {"Priority": "optional"}),
    Deb("dpkg", "1.21.22", {"Essential": "yes", "Priority": "required", "Pre-Depends": "libc6 (>= 2.34)"}),
    Deb("debconf", "1.5.82", {"Priority": "required", "Provides": "debconf-2.0"}, arch="all"),
    Deb("perl-base", "5.36.0-7", {"Priority": "required", "Provides": "perl:any"}),
    Deb("perl", "5.36.0-7", {"Depends": "perl-base (= 5.36.0-7)"}),
    Deb("adduser", "3.134", {"Priority": "important", "Depends": "passwd"}, arch="all"),
    Deb("passwd", "1:4.13", {"Priority": "required"}),
    Deb("lsb-base", "11.6", arch="all"),
    Deb("libtool-bin", "1.5", {}),  # too old for >= 2: the provider below is taken
    Deb("libltdl7", "2.4.7", {"Provides": "libltdl-any (= 2.4.7)"}),
    Deb("mailx-lite", "1.0", {"Provides": "mail-transport-agent"}),
    Deb("exim4", "4.96", {"Provides": "mail-transport-agent"}),
    Deb("squid", "5.7-1", {}, arch="arm64"),  # another architecture: never taken for amd64
]  # fmt: skip
UPDATES = [Deb("squid", "5.7-2+deb12u1", SQUID_WORLD[0].fields, size=300_000)]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Nothing here may leave this machine: a connection anywhere but loopback fails the test."""
    connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"a connection to {address[0]} left the machine")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    where = tmp_path_factory.mktemp("key")
    return signing_key(where / "test.pgp"), where / "test.pgp"


@pytest.fixture
def mirror(tmp_path, key):
    tsk, _ = key
    root = tmp_path / "mirror"
    write_suite(root, "bookworm", SQUID_WORLD, tsk)
    write_suite(root, "bookworm-updates", UPDATES, tsk)
    write_suite(root, "bookworm-security", [], tsk)
    with serve(root) as server:
        yield server


def make(dest, mirror, key, release="bookworm", **options):
    return build(dest, release, mirror=mirror.url, security_mirror=mirror.url, keyring=key[1],
                 cache=dest.parent / "cache", **options)  # fmt: skip


def test_the_closure_is_what_a_bare_server_of_the_release_lacks(tmp_path, mirror, key):
    made = make(tmp_path / "b", mirror, key)
    names = {p.name: p.version for p in made.bundle.packages}
    # squid from -updates (the newer), its alternatives and providers as apt picks them; what every
    # server has (required, Essential and what they need) is assumed and said, not bundled
    assert names == {"squid": "5.7-2+deb12u1", "squid-common": "5.7-2", "lsb-base": "11.6", "adduser": "3.134",
                     "libltdl7": "2.4.7", "exim4": "4.96"}  # fmt: skip
    assert made.assumed == ("debconf", "libc6", "passwd", "perl-base")
    assert made.signers == ("sensorproxy test archive <archive@test.invalid>",)
    loaded = bundle.load(tmp_path / "b")  # the same format apply reads, every checksum checked
    assert (loaded.os_id, loaded.os_version, loaded.arch) == ("debian", "12", "amd64")
    manifest = json.loads((tmp_path / "b" / bundle.MANIFEST).read_text())
    assert manifest["release"] == "bookworm"
    index = (tmp_path / "b" / bundle.INDEX).read_text()
    assert "Filename: ./squid_5.7-2+deb12u1_amd64.deb\n" in index
    assert "Filename: pool/" not in index


def test_a_dependency_nothing_satisfies_is_named(tmp_path, key):
    world = [Deb("squid", "1", {"Depends": "libecap3 (>= 1.0.1)"}), Deb("libecap3", "0.9")]
    with pytest.raises(DependencyError, match=r"squid 1 needs libecap3 \(>= 1.0.1\), which the release does not have"):
        closure(archive.parse(_index(world), "http://x", "Packages"), "amd64")


def _index(debs):
    return "\n".join(
        "".join(f"{k}: {v}\n" for k, v in {"Package": d.name, "Version": d.version, "Architecture": d.arch,
                                            **d.fields, "Filename": "f", "Size": "1", "SHA256": "0"}.items())
        for d in debs
    )  # fmt: skip


def test_versions_compare_by_debians_rules(tmp_path):
    world = [Deb("squid", "1", {"Depends": "libx (>= 1.54~), liby (<< 2:0)"}), Deb("libx", "1.54~~rc1"),
             Deb("libx-new", "1", {"Provides": "libx (= 1.54)"}), Deb("liby", "1:9")]  # fmt: skip
    chosen = closure(archive.parse(_index(world), "http://x", "Packages"), "amd64")
    assert [p.name for p in chosen.packages] == ["libx-new", "liby", "squid"]  # 1.54~~rc1 < 1.54~ ; 1:9 < 2:0


def test_a_tampered_deb_is_refused_by_name_and_nothing_is_kept(tmp_path, mirror, key):
    path = "pool/main/l/lsb-base/lsb-base_11.6_all.deb"
    mirror.replaced[path] = b"x" * 2000
    with pytest.raises(bundle.BundleError) as info:
        make(tmp_path / "b", mirror, key)
    assert str(info.value).startswith(f"{path} does not match the SHA-256 its signed index gives")
    assert not (tmp_path / "b").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.read_bytes() == b"x" * 2000]


def test_a_tampered_index_is_refused_by_name(tmp_path, mirror, key):
    path = "dists/bookworm/main/binary-amd64/Packages.xz"
    mirror.replaced[path] = (Path(mirror.root) / "dists/bookworm-updates/main/binary-amd64/Packages.xz").read_bytes()
    with pytest.raises(bundle.BundleError, match=f"^{path} does not match the SHA-256 its signed index gives"):
        make(tmp_path / "b", mirror, key)
    assert not (tmp_path / "b").exists()


def test_a_bad_or_foreign_signature_is_refused_by_name(tmp_path, mirror, key):
    path = "dists/bookworm/InRelease"
    signed = (Path(mirror.root) / path).read_bytes()
    mirror.replaced[path] = signed.replace(b"Codename: bookworm", b"Codename: bookwork")
    with pytest.raises(bundle.BundleError, match=f"^{path} is not signed by the archive's keys"):
        make(tmp_path / "b", mirror, key)
    del mirror.replaced[path]
    with pytest.raises(bundle.BundleError, match=f"^{path} is not signed by the archive's keys"):
        build(tmp_path / "b", "bookworm", mirror=mirror.url, cache=tmp_path / "cache")  # Debian's own keys
    assert not (tmp_path / "b").exists()


def test_another_suites_signed_index_is_not_taken_for_this_one(tmp_path, mirror, key):
    mirror.replaced["dists/bookworm/InRelease"] = (Path(mirror.root) / "dists/bookworm-updates/InRelease").read_bytes()
    with pytest.raises(bundle.BundleError, match="signed for 'bookworm-updates', not 'bookworm'"):
        make(tmp_path / "b", mirror, key)


def test_an_expired_index_is_refused(tmp_path, key):
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S UTC")
    write_suite(tmp_path / "m", "bookworm", SQUID_WORLD, key[0], extra=f"Valid-Until: {past}\n")
    with serve(tmp_path / "m") as server, pytest.raises(archive.ArchiveError, match="expired on"):
        archive.suite(server.url, "bookworm", archive.keys(key[1]))


def test_release_and_detached_signature_when_there_is_no_inrelease(tmp_path, key):
    write_suite(tmp_path / "m", "bookworm", SQUID_WORLD, key[0], inline=False)
    with serve(tmp_path / "m") as server:
        suite = archive.suite(server.url, "bookworm", archive.keys(key[1]))
        assert "main/binary-amd64/Packages.xz" in suite.files
        server.replaced["dists/bookworm/Release"] = (tmp_path / "m/dists/bookworm/Release").read_bytes() + b"X: y\n"
        with pytest.raises(archive.ArchiveError, match=r"^dists/bookworm/Release is not signed"):
            archive.suite(server.url, "bookworm", archive.keys(key[1]))


def test_an_interrupted_download_continues_where_it_stopped(tmp_path, mirror, key):
    path = "pool/main/s/squid/squid_5.7-2+deb12u1_amd64.deb"
    mirror.cut[path] = 120_000
    with pytest.raises(bundle.BundleError, match="stopped at 120000 of 300000 bytes: the connection ended"):
        make(tmp_path / "b", mirror, key)
    mirror.asked.clear()
    made = make(tmp_path / "b", mirror, key)
    assert (path, "bytes=120000-") in mirror.asked  # the rest, not the whole file again
    debs = [p for p, _ in mirror.asked if p.endswith(".deb")]
    # the files the first run completed came from the cache; squid-common, after squid, is new
    assert debs == [path, "pool/main/s/squid-common/squid-common_5.7-2_all.deb"]
    assert made.downloaded == 180_000 + 2000
    assert {p.name for p in made.bundle.packages} >= {"squid"}
    again = make(tmp_path / "b", mirror, key)  # a third run: only the signed indexes travel
    assert again.downloaded == 0


def test_an_earlier_bundle_is_replaced_whole_and_other_folders_are_not_touched(tmp_path, mirror, key):
    make(tmp_path / "b", mirror, key)
    (tmp_path / "b" / "stale_1_amd64.deb").write_bytes(b"old")
    make(tmp_path / "b", mirror, key)
    assert not (tmp_path / "b" / "stale_1_amd64.deb").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(bundle.BundleError, match="holds other files"):
        make(tmp_path / "mine", mirror, key)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_ubuntu_by_configuration_against_a_loopback_mirror_and_its_shipped_key(tmp_path, key):
    """This machine cannot reach Ubuntu's archive: a loopback mirror in Ubuntu's layout (focal, its
    -updates and -security all in one archive), signed with a test key given as --keyring."""
    for suite in ("focal", "focal-updates", "focal-security"):
        write_suite(tmp_path / "ubuntu", suite, SQUID_WORLD if suite == "focal" else [], key[0], codename="focal")
    with serve(tmp_path / "ubuntu") as server:
        made = build(tmp_path / "b", "focal", mirror=server.url, keyring=key[1], cache=tmp_path / "cache")
        assert (made.bundle.os_id, made.bundle.os_version) == ("ubuntu", "20.04")
        assert {p for p, _ in server.asked if p.endswith("InRelease")} == {
            "dists/focal/InRelease", "dists/focal-updates/InRelease", "dists/focal-security/InRelease"
        }  # fmt: skip
        with pytest.raises(bundle.BundleError, match=r"^dists/focal/InRelease is not signed by the archive's keys"):
            build(tmp_path / "c", "focal", mirror=server.url, cache=tmp_path / "cache")  # Ubuntu's 2018 key
    assert releases.release("focal").mirror("amd64") == "http://archive.ubuntu.com/ubuntu"
    assert releases.release("noble").mirror("arm64") == "http://ports.ubuntu.com/ubuntu-ports"
    assert releases.release("jammy").security_mirror("http://m/ubuntu") == "http://m/ubuntu"
    assert releases.release("bullseye").security_mirror("http://m/debian") == "http://deb.debian.org/debian-security"


def test_the_shipped_archive_keys_are_valid_today_and_say_where_they_came_from():
    for distro, keyring in releases.KEYRINGS.items():
        keys = archive.describe(keyring.file)
        assert keys, distro
        for k in keys:
            assert k.expires is None or k.expires > datetime.now(UTC), f"{k.user_id} expired: refresh {keyring.file}"
        assert "keyring" in keyring.origin
    debian = {k.user_id.split(" <")[0] for k in archive.describe(releases.KEYRINGS["debian"].file)}
    for n, name in ((11, "bullseye"), (12, "bookworm"), (13, "trixie")):
        assert f"Debian Archive Automatic Signing Key ({n}/{name})" in debian
        assert f"Debian Security Archive Automatic Signing Key ({n}/{name})" in debian
    ubuntu = [k.fingerprint for k in archive.describe(releases.KEYRINGS["ubuntu"].file)]
    assert ubuntu == ["F6ECB3762474EDA9D21B7022871920D1991BC93C"]  # Ubuntu Archive Automatic Signing Key (2018)


def test_the_command_line_shows_what_it_verified_and_assumed(tmp_path, mirror, key, capsys, monkeypatch):
    monkeypatch.setenv("SENSORPROXY_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["bundle", str(tmp_path / "b"), "--release", "bookworm", "--mirror", mirror.url,
            "--security-mirror", mirror.url, "--keyring", str(key[1])]  # fmt: skip
    assert cli_main(argv) == 0
    out = capsys.readouterr().out
    assert "6 packages (0.3 MB) for Debian 12 bookworm (amd64)" in out
    assert "verified: signed by sensorproxy test archive" in out
    assert "assumed on every Debian 12 server (not in the bundle): debconf, libc6, passwd, perl-base" in out
    assert cli_main(["archive-keys"]) == 0
    assert "Ubuntu Archive Automatic Signing Key (2018)" in capsys.readouterr().out


# POSIX-only modules (Windows has none of them), and external programs: the run must not start any.
WINDOWS_SHAPED = textwrap.dedent("""
    import importlib.abc, subprocess, sys
    POSIX_ONLY = {"fcntl", "grp", "pwd", "pty", "resource", "termios", "tty", "syslog", "crypt", "spwd", "posix_ipc"}
    class NotOnWindows(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in POSIX_ONLY:
                raise ImportError(f"{name} is POSIX-only")
    sys.meta_path.insert(0, NotOnWindows())
    for name in POSIX_ONLY:
        sys.modules.pop(name, None)
    def no_programs(*args, **kwargs):
        raise AssertionError(f"an external program was started: {args}")
    subprocess.Popen.__init__ = no_programs
    from cli.main import main
    sys.exit(main(sys.argv[1:]))
""")


def test_a_windows_shaped_run_needs_no_posix_module_and_no_program(tmp_path, mirror, key):
    empty = tmp_path / "bin"
    empty.mkdir()  # no apt, dpkg or gpg: nothing at all on PATH
    env = {"PATH": str(empty), "SENSORPROXY_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path),
           "SENSORPROXY_CONFIG_DIR": str(tmp_path / "config"), "PYTHONPATH": os.getcwd()}  # fmt: skip
    argv = ["bundle", str(tmp_path / "b"), "--release", "bookworm", "--mirror", mirror.url,
            "--security-mirror", mirror.url, "--keyring", str(key[1])]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", WINDOWS_SHAPED, *argv], capture_output=True, text=True, env=env,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "6 packages" in done.stdout
    assert bundle.load(tmp_path / "b").packages


def test_a_dropped_connection_or_a_busy_mirror_is_tried_again_and_a_missing_file_is_not(
    tmp_path, mirror, key, monkeypatch
):
    monkeypatch.setattr(fetch, "PAUSE", 0.01)
    index, deb = "dists/bookworm/InRelease", "pool/main/s/squid/squid_5.7-2+deb12u1_amd64.deb"
    mirror.drops[index] = 2  # reset twice, answered the third time
    mirror.busy[deb] = 1
    made = make(tmp_path / "b", mirror, key)
    assert [p for p, _ in mirror.asked].count(index) == 3
    assert [p for p, _ in mirror.asked].count(deb) == 2
    assert {p.name for p in made.bundle.packages} >= {"squid"}

    mirror.drops[index] = 3  # more than the tries: the error says which file, and why
    with pytest.raises(bundle.BundleError, match=r"cannot download .*/dists/bookworm/InRelease: .*(reset|closed)"):
        make(tmp_path / "c", mirror, key)
    mirror.asked.clear()
    assert fetch.small(f"{mirror.url}/dists/nosuch/InRelease") is None  # a 404 is an answer, asked once
    assert mirror.asked == [("dists/nosuch/InRelease", None)]
