"""A site's endpoint list merged into the destinations: the plain forms it comes in, errors that name the
line or element, and only what the allowlist does not already let through is added; from the command
line, saved atomically, and a bad file changes nothing."""

from __future__ import annotations

import pytest

from cli.main import main
from core import projectfile
from core.endpoint_list import EndpointListError, merge, parse
from core.model import DEFAULT_ALLOWLIST
from tests.conftest import ROOT

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def test_a_plain_list_and_a_json_list_give_the_same_host_names():
    text = "\ufeff# endpoints for North Plant\ncontoso-hub.azure-devices.net\n\nEU-Storage.blob.core.windows.net\n"
    hosts = ("contoso-hub.azure-devices.net", "eu-storage.blob.core.windows.net")
    assert parse(text, "list.txt") == hosts
    listed = '["contoso-hub.azure-devices.net", "eu-storage.blob.core.windows.net",\n "contoso-hub.azure-devices.net"]'
    assert parse(listed, "list.json") == hosts


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("ok.azure-devices.net\nnot a host\n", "list, line 2: 'not a host' is not a domain name"),
        ("ok.azure-devices.net\n*.servicebus.windows.net\n", "list, line 2: a wildcard, not a host name"),
        ('["ok.azure-devices.net", 443]', "list, element 2: 443 is not a host name (a string)"),
        ('["ok.azure-devices.net",', "list: not valid JSON (line 1:"),
        ('{"hosts": []}', "list: a JSON list of host names was expected"),
        ("# nothing\n\n", "list: no host names in it"),
    ],
)
def test_a_bad_list_says_where(text, said):
    with pytest.raises(EndpointListError) as info:
        parse(text, "list")
    assert str(info.value).startswith(said)


def test_only_what_is_not_let_through_yet_is_added():
    merged = merge(
        DEFAULT_ALLOWLIST, ("contoso-hub.azure-devices.net", "download.microsoft.com", "login.microsoftonline.com")
    )
    assert merged.added == ("login.microsoftonline.com",)
    assert merged.covered == ("contoso-hub.azure-devices.net", "download.microsoft.com")
    assert merged.allowlist == (*DEFAULT_ALLOWLIST, "login.microsoftonline.com")
    assert merged.summary() == "added 1: login.microsoftonline.com; 2 already let through"


def test_the_command_line_adds_the_list_and_a_bad_one_changes_nothing(tmp_path, capsys):
    site = tmp_path / "site.toml"
    site.write_bytes(EXAMPLE.read_bytes())
    listed = tmp_path / "endpoints.txt"
    listed.write_text("contoso-hub.azure-devices.net\nlogin.microsoftonline.com\n")
    assert main(["allowlist", "import", str(site), str(listed)]) == 0
    assert capsys.readouterr().out == f"{site}: added 1: login.microsoftonline.com; 1 already let through\n"
    assert projectfile.load(site).proxy.allowlist[-1] == "login.microsoftonline.com"
    before = site.read_bytes()
    listed.write_text("fine.azure-devices.net\nbad host\n")
    assert main(["allowlist", "import", str(site), str(listed)]) == 1
    assert f"{listed}, line 2: 'bad host' is not a domain name" in capsys.readouterr().err
    assert site.read_bytes() == before
