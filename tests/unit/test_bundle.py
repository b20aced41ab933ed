"""Bundle manifests: checksums, zips, and the match against the server's release and architecture."""

from __future__ import annotations

import gc
import json
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from core import bundle, squid
from core.fetch import sha256_of
from core.remote.errors import UnsupportedServer
from core.remote.server import ServerState, install_bundle
from core.remote.setup import Run

SERVER = ServerState("debian", "Debian GNU/Linux 12", "amd64", 1, None, False, False, False, False,
                     frozenset(), (), 0, os_version="12")  # fmt: skip


def make(folder: Path, os_version: str = "12", names: tuple[str, ...] = ("squid", "squid-common")) -> Path:
    folder.mkdir()
    packages = []
    for name in names:
        deb = folder / f"{name}_5.7-2%3a1_amd64.deb"
        deb.write_bytes(f"package {name}".encode())
        packages.append({"file": deb.name, "name": name, "version": "5.7-2:1", "arch": "amd64",
                         "sha256": sha256_of(deb)})  # fmt: skip
    (folder / bundle.INDEX).write_text("Package: squid\n")
    manifest = {"format": 1, "os_id": "debian", "os_version": os_version, "arch": "amd64", "packages": packages,
                "index_sha256": sha256_of(folder / bundle.INDEX)}  # fmt: skip
    (folder / bundle.MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_a_matching_bundle_loads_from_a_folder_and_from_a_zip(tmp_path):
    folder = make(tmp_path / "b")
    loaded = bundle.load(folder)
    assert [p.name for p in loaded.packages] == ["squid", "squid-common"]
    assert loaded.problem(SERVER) is None
    assert loaded.size == len("package squid") + len("package squid-common")
    archive = shutil.make_archive(str(tmp_path / "b"), "zip", folder)
    unpacked = bundle.load(Path(archive))
    assert [p.sha256 for p in unpacked.packages] == [p.sha256 for p in loaded.packages]
    where = unpacked.folder
    assert where.is_dir()
    del unpacked
    gc.collect()
    assert not where.exists()  # the unpacked copy goes with the bundle


def test_a_damaged_zip_leaves_no_unpacked_copy(tmp_path):
    folder = make(tmp_path / "b")
    (folder / "squid_5.7-2%3a1_amd64.deb").write_bytes(b"damaged")
    archive = shutil.make_archive(str(tmp_path / "b"), "zip", folder)
    before = set(Path(tempfile.gettempdir()).glob("sensorproxy-bundle.*"))
    with pytest.raises(bundle.BundleError, match="does not match its checksum"):
        bundle.load(Path(archive))
    assert set(Path(tempfile.gettempdir()).glob("sensorproxy-bundle.*")) == before


def test_damaged_or_missing_files_are_named(tmp_path):
    folder = make(tmp_path / "b")
    (folder / "squid_5.7-2%3a1_amd64.deb").write_bytes(b"changed on the USB stick")
    with pytest.raises(bundle.BundleError, match=re.escape("squid_5.7-2%3a1_amd64.deb does not match its checksum")):
        bundle.load(folder)
    (folder / "squid_5.7-2%3a1_amd64.deb").unlink()
    with pytest.raises(bundle.BundleError, match="missing from"):
        bundle.load(folder)
    (folder / bundle.INDEX).write_text("tampered")
    with pytest.raises(bundle.BundleError, match="Packages is missing or damaged"):
        bundle.load(folder)
    with pytest.raises(bundle.BundleError, match=re.escape("has no bundle.json")):
        bundle.load(tmp_path)


def test_release_architecture_and_squid_must_match_the_server(tmp_path):
    other = bundle.load(make(tmp_path / "a", os_version="11"))
    assert other.problem(SERVER) == (
        "the bundle is for Debian 11 bullseye (amd64), but the server runs Debian 12 bookworm (amd64): "
        "make one with `sensorproxy bundle DIR --release bookworm --arch amd64`"
    )
    assert bundle.load(make(tmp_path / "b")).problem(replace(SERVER, arch="arm64")) == (
        "the bundle is for Debian 12 bookworm (amd64), but the server runs Debian 12 bookworm (arm64): "
        "make one with `sensorproxy bundle DIR --release bookworm --arch arm64`"
    )
    xenial = replace(SERVER, os_id="ubuntu", os_version="16.04")
    assert bundle.load(make(tmp_path / "x")).problem(xenial) == (
        "the bundle is for Debian 12 bookworm (amd64), but the server runs ubuntu 16.04 (amd64): sensorproxy makes "
        "bundles for Debian 11, Debian 12, Debian 13, Ubuntu 18.04, Ubuntu 20.04, Ubuntu 22.04, Ubuntu 24.04"
    )
    assert (
        bundle.load(make(tmp_path / "c", names=("squid-common",))).problem(SERVER) == "the bundle has no squid package"
    )


def test_a_mismatched_bundle_stops_the_install_before_anything_is_uploaded(tmp_path):
    class NoSession:
        def upload(self, files):
            raise AssertionError("nothing may be uploaded")

        def script(self, *args, **kwargs):
            raise AssertionError("nothing may run")

    run = Run(NoSession(), squid.SquidLayout())  # type: ignore[arg-type]
    with pytest.raises(UnsupportedServer, match="the bundle is for Debian 11 bullseye"):
        run.install(SERVER, bundle.load(make(tmp_path / "a", os_version="11")))


def test_the_install_script_never_downloads_and_refuses_odd_file_names():
    script = install_bundle([("ab" * 32, "Packages"), ("cd" * 32, "squid_5.7-2%3a1_amd64.deb")])
    # apt's only source is the bundle: the server's lists and sources are never read
    assert 'Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/parts"' in script
    assert 'Dir::State::Lists="$dir/lists"' in script
    assert "sha256sum -c" in script
    assert "deb [trusted=yes] file:" in script  # the bundle is apt's only source for this install
    with pytest.raises(ValueError, match="unexpected file name"):
        install_bundle([("ab" * 32, "x;rm -rf /.deb")])


def test_cli_apply_checks_the_bundle_before_connecting(tmp_path, capsys):
    from cli.main import main
    from core import projectfile
    from core.model import Sensor
    from tests.conftest import make_project

    project = tmp_path / "p.toml"
    projectfile.save(make_project(Sensor("A", "10.0.0.1")), project)  # its server, 192.0.2.10, is never contacted
    folder = make(tmp_path / "b")
    (folder / "squid-common_5.7-2%3a1_amd64.deb").write_bytes(b"damaged")
    assert main(["apply", str(project), "--yes", "--bundle", str(folder)]) == 1
    assert "squid-common_5.7-2%3a1_amd64.deb does not match its checksum" in capsys.readouterr().err
