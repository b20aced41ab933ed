from __future__ import annotations

from dataclasses import replace

import keyring
import pytest
from keyring.backends import fail

from core import credentials
from core.credentials import MissingSecret, NoSecureStorage, Secrets, proxy_kinds
from core.model import AuthMethod, ParentProxy, Sensor
from core.remote.errors import (
    AuthenticationFailed,
    ConnectFailed,
    PasswordRefused,
    SecretNeeded,
    SudoPasswordRefused,
)
from core.secret_kind import Kind
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


class Asker:
    """A front end's `ask`: answers from a script, and a record of what was asked and why."""

    def __init__(self, *answers: dict[Kind, str] | None, remember: bool = False) -> None:
        self.answers = list(answers)
        self.remember = remember
        self.asked: list[tuple[dict[Kind, str], str]] = []

    def __call__(self, asks: dict[Kind, str], refused: str) -> credentials.Answer | None:
        self.asked.append((asks, refused))
        answer = self.answers.pop(0)
        return None if answer is None else credentials.Answer(answer, self.remember)


def test_a_secret_comes_from_the_session_then_keyring_then_environment_then_the_front_end(memory, monkeypatch):
    ask = Asker({Kind.PARENT: "typed"})
    found = Secrets(ask)
    monkeypatch.setenv("SENSORPROXY_PROXY_PASSWORD", "from-env")
    monkeypatch.setenv("SENSORPROXY_SUDO_PASSWORD", "sudo-env")
    credentials.store(Kind.PROXY, PROJECT, "from-keyring")
    assert found.secret(Kind.PROXY, PROJECT) == "from-keyring"
    assert found.secret(Kind.SUDO, PROJECT) == "sudo-env"
    assert found.secret(Kind.PARENT, PROJECT) == "typed"
    assert found.secret(Kind.PARENT, PROJECT) == "typed"  # this session's answer: not asked twice
    assert ask.asked == [({Kind.PARENT: "Password of parent proxy user plant at up.example:8080"}, "")]
    credentials.forget(Kind.PROXY, PROJECT)
    assert Secrets().known(Kind.PROXY, PROJECT) == "from-env"


def test_everything_missing_is_asked_in_one_go(memory):
    ask = Asker({Kind.PROXY: "p", Kind.PARENT: "q"})
    assert Secrets(ask).passwords(PROJECT) == {Kind.PROXY: "p", Kind.PARENT: "q"}
    assert [set(asks) for asks, _ in ask.asked] == [{Kind.PROXY, Kind.PARENT}]
    assert Secrets().passwords(PROJECT, ask=False) == {}


def test_missing_secret_says_how_to_provide_it(memory):
    with pytest.raises(MissingSecret) as info:
        Secrets(path=None).secret(Kind.SUDO, PROJECT)
    assert "credentials set PROJECT sudo" in str(info.value)
    assert "SENSORPROXY_SUDO_PASSWORD" in str(info.value)
    assert "no terminal to ask on" in str(info.value)
    with pytest.raises(MissingSecret, match=r"sudo password of root on 192\.0\.2\.10 is needed: store it"):
        Secrets(Asker({Kind.SUDO: ""})).secret(Kind.SUDO, PROJECT)  # asked, and nothing was typed


def test_declining_stops_the_run(memory):
    with pytest.raises(credentials.Declined):
        Secrets(Asker(None)).secret(Kind.SSH, PROJECT)


def test_remembered_answers_go_to_the_keyring_and_a_failure_to_store_is_said(memory, no_backend):
    warned: list[str] = []
    found = Secrets(Asker({Kind.PROXY: "keep-me"}, remember=True), warn=warned.append)
    assert found.secret(Kind.PROXY, PROJECT) == "keep-me"  # still used for this session
    assert warned == [
        "Not remembered: no secure password store on this computer (no Secret Service running): passwords are "
        "asked each time; nothing was stored"
    ]


def test_a_refused_password_is_asked_again_saying_so_and_the_stored_one_is_not_offered(memory, monkeypatch):
    project = replace(PROJECT, ssh=replace(PROJECT.ssh, auth=AuthMethod.PASSWORD, sudo=True))
    credentials.store(Kind.SSH, project, "stale")
    ask = Asker({Kind.SSH: "right", Kind.SUDO: "sudo-right"})
    found = Secrets(ask)
    assert found.login(project) == {Kind.SSH: "stale"}
    assert found.recover(PasswordRefused("refused"), project)
    assert ask.asked == [
        (
            {Kind.SSH: "SSH password of root on 192.0.2.10", Kind.SUDO: "sudo password of root on 192.0.2.10"},
            "192.0.2.10 refused that SSH password for root — try again",
        )
    ]
    assert found.login(project) == {Kind.SSH: "right", Kind.SUDO: "sudo-right"}
    assert credentials.get(Kind.SSH, project) == "stale"  # not remembered: the answer was not ticked so


def test_recover_asks_for_what_the_server_needs_with_what_the_run_needs_next(memory):
    project = replace(PROJECT, ssh=replace(PROJECT.ssh, auth=AuthMethod.PASSWORD, sudo=True))
    ask = Asker({Kind.SSH: "a", Kind.SUDO: "b", Kind.PROXY: "c", Kind.PARENT: "d"})
    found = Secrets(ask)
    assert found.recover(SecretNeeded(Kind.SSH, "x logs in with a password"), project, proxy_kinds(project))
    assert list(ask.asked[0][0]) == [Kind.SSH, Kind.SUDO, Kind.PROXY, Kind.PARENT]
    # Given, and still needed: the error stands rather than a loop of questions.
    assert not found.recover(SecretNeeded(Kind.SSH, "x"), project)


def test_nobody_to_ask_leaves_a_refusal_standing_and_distrusts_a_refused_passphrase(memory, monkeypatch):
    monkeypatch.setenv("SENSORPROXY_SUDO_PASSWORD", "wrong")
    found = Secrets()
    assert not found.recover(SudoPasswordRefused("refused"), PROJECT)
    assert found.known(Kind.SUDO, PROJECT) is None  # the environment's refused password is not used again
    credentials.store(Kind.PASSPHRASE, PROJECT, "old")
    assert not found.recover(AuthenticationFailed("refused the key login"), PROJECT)
    assert found.known(Kind.PASSPHRASE, PROJECT) is None
    assert not found.recover(ConnectFailed("no route"), PROJECT)


def test_no_secure_backend_never_falls_back_to_plaintext(no_backend, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert not credentials.secure_backend_available()
    with pytest.raises(NoSecureStorage, match="no secure password store on this computer"):
        credentials.store(Kind.PROXY, PROJECT, "s3cret")
    assert credentials.get(Kind.PROXY, PROJECT) is None
    assert not credentials.forget(Kind.PROXY, PROJECT)
    assert Secrets(Asker({Kind.PROXY: "typed"})).secret(Kind.PROXY, PROJECT) == "typed"
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
