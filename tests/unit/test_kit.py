"""The offline kit's content; tests/lab/test_kit.py runs it on the lab server."""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import replace

import pytest

from core import kit, projectfile, shacrypt
from core.model import validate
from core.secret_kind import Kind
from tests.conftest import ROOT, require_tool

EXAMPLE = projectfile.load(ROOT / "resources" / "example" / "north-plant.toml")


def members(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i).decode() for i in z.infolist()}


def test_kit_holds_the_files_the_script_and_only_a_hash_of_the_password():
    files = members(kit.build(EXAMPLE, {Kind.PROXY: "Kit-pass-11"}, made="2026-11-28 10:00 UTC"))
    assert sorted(files) == [
        "sensorproxy-kit/README.txt",
        "sensorproxy-kit/apply.sh",
        "sensorproxy-kit/files/etc/squid/conf.d/sensorproxy.conf",
        "sensorproxy-kit/files/etc/squid/sensorproxy.passwd",
        "sensorproxy-kit/files/etc/squid/sensorproxy.sensors",
        "sensorproxy-kit/transaction.sh",
    ]
    assert all("Kit-pass-11" not in text for text in files.values())
    user, _, hashed = files["sensorproxy-kit/files/etc/squid/sensorproxy.passwd"].strip().partition(":")
    assert user == "sensors"
    assert hashed.startswith("$6$rounds=")  # the one scheme every release verifies
    assert shacrypt.verify("Kit-pass-11", hashed)
    assert "\n192.168.40.11/32 # sensor Boiler%20house" in files["sensorproxy-kit/files/etc/squid/sensorproxy.sensors"]
    script = files["sensorproxy-kit/transaction.sh"]
    assert "squid -k parse" in script
    assert "restore" in script
    assert "North Plant" in files["sensorproxy-kit/README.txt"]
    shell = require_tool("sh")
    for name in ("apply.sh", "transaction.sh"):
        syntax = subprocess.run([shell, "-n"], input=files[f"sensorproxy-kit/{name}"], text=True, capture_output=True)
        assert syntax.returncode == 0, syntax.stderr


def test_kit_needs_the_proxy_password_and_a_valid_project():
    with pytest.raises(ValueError, match="proxy password for sensors is needed"):
        kit.build(EXAMPLE, {}, made="now")
    bad = replace(EXAMPLE, proxy=replace(EXAMPLE.proxy, sensor_host="not a host!"))
    assert [str(p) for p in validate(bad)] == ["Address sensors use: 'not a host!' is not an IP address or host name"]
    with pytest.raises(ValueError, match="Address sensors use"):
        kit.build(bad, {Kind.PROXY: "x"}, made="now")


def test_without_authentication_the_kit_removes_an_old_password_file():
    project = replace(EXAMPLE, proxy=replace(EXAMPLE.proxy, auth_enabled=False))
    files = members(kit.build(project, {}, made="now"))
    assert "sensorproxy-kit/files/etc/squid/sensorproxy.passwd" not in files
    assert "\ndrop 3 /etc/squid/sensorproxy.passwd\nmain\n" in files["sensorproxy-kit/transaction.sh"]


def test_cli_writes_the_kit_with_the_password_from_the_environment(tmp_path, monkeypatch):
    from cli.main import main

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("SENSORPROXY_PROXY_PASSWORD", "Cli-kit-pass-4")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    out = tmp_path / "kit.zip"
    assert main(["kit", str(ROOT / "resources" / "example" / "north-plant.toml"), str(out)]) == 0
    files = members(out.read_bytes())
    hashed = files["sensorproxy-kit/files/etc/squid/sensorproxy.passwd"].strip().partition(":")[2]
    assert shacrypt.verify("Cli-kit-pass-4", hashed)
