"""The proxy login as the sensors meet it, on a server whose crypt(3) has no bcrypt (glibc's own, as on
Ubuntu 18.04 and Debian 10): apply picks a hash the helper verifies, or stops before "done"."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import squid
from core.remote import setup
from core.remote.errors import VerifyFailed
from core.remote.events import StepEvent
from core.secret_kind import Kind
from tests.lab.lab import Lab
from tests.lab.test_apply import ALLOWED, AUTH, DENIED, apply, codes, managed_files

pytestmark = pytest.mark.lab
LAYOUT = squid.SquidLayout()
PASSWORD = "Glibc-proxy-Secret-77"


def test_a_server_without_bcrypt_gets_sha512_crypt_and_the_sensor_logs_in(lab: Lab, known_hosts):
    project = lab.project("sp-s1", auth_enabled=True, auth_user="glibc")
    with lab.glibc_crypt():
        with lab.session(known_hosts) as session:
            assert setup.probe(session, LAYOUT).hash_schemes == frozenset({"sha512"})
        outcome, events, _ = apply(lab, known_hosts, project, {Kind.PROXY: PASSWORD})
        assert outcome.changed
        assert outcome.plan.scheme == "sha512"
        assert Path(LAYOUT.passwd_file).read_text().startswith(f"glibc:$6$rounds={setup.SHA512_ROUNDS}$")
        verify = [e for e in events if isinstance(e, StepEvent) and e.step == "verify"][-1]
        assert verify.message == "Squid serves on port 3128; its helper accepts the proxy login"
        assert codes(lab.curl("sp-s1", credentials=f"glibc:{PASSWORD}")) == ALLOWED
        assert codes(lab.curl("sp-s1", credentials="glibc:Wrong-password")) == AUTH
        assert codes(lab.curl("sp-s2", credentials=f"glibc:{PASSWORD}")) == DENIED
    # The same server with bcrypt back (libxcrypt, Debian 11 on): the strongest scheme again.
    outcome, _, _ = apply(lab, known_hosts, project, {Kind.PROXY: PASSWORD})
    assert outcome.changed
    assert Path(LAYOUT.passwd_file).read_text().startswith("glibc:$2b$")
    assert codes(lab.curl("sp-s1", credentials=f"glibc:{PASSWORD}")) == ALLOWED


def test_a_login_the_helper_refuses_is_rolled_back_before_done(lab: Lab, known_hosts, monkeypatch):
    apply(lab, known_hosts, lab.project("sp-s1"))  # a server that works, without a login
    before = managed_files()
    with lab.glibc_crypt():
        monkeypatch.setattr(setup, "hash_scheme", lambda _schemes: "bcrypt")  # as if the probe got it wrong
        with pytest.raises(VerifyFailed, match=r"^this server's Squid cannot check bcrypt passwords: its helper "):
            apply(lab, known_hosts, lab.project("sp-s1", auth_enabled=True, auth_user="glibc"), {Kind.PROXY: PASSWORD})
        assert managed_files() == before
        assert codes(lab.curl("sp-s1")) == ALLOWED  # the previous configuration serves again
