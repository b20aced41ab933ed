from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from core import credentials
from core.credentials import Kind, MissingSecret, NoSecureStorage, Source
from core.model import ParentProxy, Sensor
from tests.conftest import make_project


@pytest.fixture
def no_backend():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


PROJECT = make_project(
    Sensor("A", "10.0.0.1"), auth_enabled=True, auth_user="sensors", parent=ParentProxy("up.example", 8080, "plant")
)


def test_identities_name_purpose_and_owner():
    assert credentials.identity(Kind.SSH, PROJECT) == "ssh:root@192.0.2.10:22"
    assert credentials.identity(Kind.SUDO, PROJECT) == "sudo:root@192.0.2.10:22"
    assert credentials.identity(Kind.PROXY, PROJECT) == "proxy:Test Site:sensors"
    assert credentials.identity(Kind.PARENT, PROJECT) == "parent:plant@up.example:8080"


def test_store_get_forget(memory):
    credentials.store(Kind.PROXY, PROJECT, "s3cret")
    assert memory.items == {("sensorproxy", "proxy:Test Site:sensors"): "s3cret"}
    assert credentials.get(Kind.PROXY, PROJECT) == "s3cret"
    assert credentials.forget(Kind.PROXY, PROJECT)
    assert not credentials.forget(Kind.PROXY, PROJECT)
    assert credentials.get(Kind.PROXY, PROJECT) is None


def test_source_prefers_keyring_then_environment_then_prompt(memory, monkeypatch):
    asked: list[str] = []
    source = Source(PROJECT, interactive=True, prompt=lambda label: asked.append(label) or "typed")
    monkeypatch.setenv("SENSORPROXY_PROXY_PASSWORD", "from-env")
    credentials.store(Kind.PROXY, PROJECT, "from-keyring")
    assert source.find(Kind.PROXY) == "from-keyring"
    assert source.find(Kind.PARENT) == "typed"
    assert asked == ["Password of parent proxy user plant at up.example:8080: "]
    assert Source(PROJECT, interactive=False).find(Kind.SUDO) is None
    credentials.forget(Kind.PROXY, PROJECT)
    assert Source(PROJECT, interactive=False).find(Kind.PROXY) == "from-env"


def test_missing_secret_says_how_to_provide_it(memory):
    with pytest.raises(MissingSecret) as info:
        Source(PROJECT, interactive=False).require(Kind.SUDO)
    assert "credentials set PROJECT sudo" in str(info.value)
    assert "SENSORPROXY_SUDO_PASSWORD" in str(info.value)


def test_no_secure_backend_never_falls_back_to_plaintext(no_backend, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert not credentials.secure_backend_available()
    with pytest.raises(NoSecureStorage, match="no secure password store on this computer"):
        credentials.store(Kind.PROXY, PROJECT, "s3cret")
    assert credentials.get(Kind.PROXY, PROJECT) is None
    assert not credentials.forget(Kind.PROXY, PROJECT)
    assert Source(PROJECT, interactive=True, prompt=lambda _l: "typed").find(Kind.PROXY) == "typed"
    assert list(tmp_path.iterdir()) == []


def test_cli_credentials_status_without_backend(no_backend, capsys, tmp_path):
    from cli.main import main
    from core import projectfile

    path = tmp_path / "p.toml"
    projectfile.save(PROJECT, path)
    assert main(["credentials", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "passwords: No secure password store on this computer (no Secret Service running)" in out
    assert "proxy:Test Site:sensors" in out
