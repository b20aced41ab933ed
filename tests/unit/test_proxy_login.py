"""The proxy login on each server: the helper and hash schemes the probe finds, the strongest scheme
chosen, a hash the server can no longer verify replaced, and verify proving the login."""

from __future__ import annotations

import dataclasses

import bcrypt
import pytest

from core import shacrypt, squid
from core.model import Project, ProxySettings, Sensor, SshTarget
from core.remote import server, setup
from core.remote.errors import SecretNeeded, UnsupportedServer
from core.remote.server import RemoteFile, ServerState
from core.secret_kind import Kind

LAYOUT = squid.SquidLayout()
PROJECT = Project(
    "Plant",
    SshTarget(host="10.0.0.5", user="root"),
    ProxySettings(auth_enabled=True, auth_user="sensors"),
    (Sensor("Boiler", "10.0.1.11"),),
)


def probed(*, helper: str = "/usr/lib/squid/basic_ncsa_auth", schemes: str = "bcrypt\nsha512") -> ServerState:
    output = f"@@sp squid\nSquid Cache: Version 5.7\n@@sp helper\n{helper}\n@@sp hashes\n{schemes}\n"
    return server.parse_probe(output, server.managed_paths(LAYOUT))


def test_the_probe_reads_the_helpers_path_and_the_schemes_it_verifies():
    state = probed(helper="/usr/lib/squid3/basic_ncsa_auth", schemes="sha512\nmd5-or-anything-else")
    assert state.ncsa_helper == "/usr/lib/squid3/basic_ncsa_auth"
    assert state.hash_schemes == frozenset({"sha512"})  # only what sensorproxy would ever write


def test_bcrypt_where_the_helper_verifies_it_else_sha512_crypt_else_nothing():
    assert setup.hash_scheme(frozenset({"bcrypt", "sha512"})) == "bcrypt"
    assert setup.hash_scheme(frozenset({"sha512"})) == "sha512"  # glibc's own crypt(3): Ubuntu 18.04
    with pytest.raises(UnsupportedServer, match="neither bcrypt nor SHA-512-crypt"):
        setup.hash_scheme(frozenset())


RIGHT = "Right-1"


def plan(state: ServerState, password: str = RIGHT) -> setup.Plan:
    secrets = setup._secrets(PROJECT, state, LAYOUT, {Kind.PROXY: password})
    return setup.plan_apply(PROJECT, state, LAYOUT, secrets)


def passwd_line(p: setup.Plan) -> str:
    change = next(f for f in p.files if f.path == LAYOUT.passwd_file)
    assert change.after is not None
    return change.after.strip()


def test_a_glibc_crypt_server_gets_sha512_crypt_and_the_helper_it_has():
    p = plan(probed(helper="/usr/lib/squid3/basic_ncsa_auth", schemes="sha512"))
    user, _, hashed = passwd_line(p).partition(":")
    assert user == "sensors"
    assert hashed.startswith(f"$6$rounds={setup.SHA512_ROUNDS}$")
    assert shacrypt.verify("Right-1", hashed)
    assert (p.scheme, p.helper) == ("sha512", "/usr/lib/squid3/basic_ncsa_auth")
    rules = next(f.after for f in p.files if f.path == LAYOUT.dropin)
    assert f"auth_param basic program /usr/lib/squid3/basic_ncsa_auth {LAYOUT.passwd_file}" in rules
    assert p.step("verify").detail.endswith("the proxy login with its SHA-512-crypt password hash")


def with_passwd(state: ServerState, line: str) -> ServerState:
    files = dict(state.files)
    files[LAYOUT.passwd_file] = RemoteFile(line + "\n", 0o640, "root", "proxy")
    return dataclasses.replace(state, files=files)


def test_a_hash_the_server_cannot_verify_is_replaced_and_one_it_can_is_kept():
    old = bcrypt.hashpw(b"Right-1", bcrypt.gensalt(rounds=4)).decode()
    moved_back = with_passwd(probed(schemes="sha512"), f"sensors:{old}")  # bcrypt file, glibc crypt now
    assert passwd_line(plan(moved_back)).startswith("sensors:$6$")
    current = with_passwd(probed(), f"sensors:{old}")
    assert not any(f.path == LAYOUT.passwd_file for f in plan(current).files)  # nothing to change
    sha = shacrypt.hash_password("Right-1", 1000)
    assert not any(
        f.path == LAYOUT.passwd_file for f in plan(with_passwd(probed(schemes="sha512"), f"sensors:{sha}")).files
    )
    assert passwd_line(plan(with_passwd(probed(schemes="sha512"), f"sensors:{sha}"), "Other-2")) != f"sensors:{sha}"


def test_a_preview_without_the_password_is_never_uploaded():
    preview = setup.plan_apply(PROJECT, probed(), LAYOUT, None)  # no secrets: the hash is missing
    assert preview.changed
    assert not preview.complete
    run = setup.Run(session=None, layout=LAYOUT)  # type: ignore[arg-type]  # it must stop before any command
    with pytest.raises(SecretNeeded, match="the files still lack a password"):
        run.execute(preview, probed())
