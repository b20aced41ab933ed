"""The Ansible export's files, read back by Ansible's own YAML loader and checked by ansible-playbook;
tests/lab/test_ansible.py runs the playbook against lab servers."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from ansible.parsing.utils.yaml import from_yaml
from hypothesis import given
from hypothesis import strategies as st

from core import ansible_export, projectfile, squid
from core.model import AuthMethod, ParentProxy, Sensor
from tests.conftest import ROOT

EXAMPLE = projectfile.load(ROOT / "resources" / "example" / "north-plant.toml")
HASH = "$2b$10$" + "a" * 53
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb1pLz7iJ9x1Lq1u5vX0m3O2rC4Q9p6g9z8Zq2b7s1A"


def host(project=EXAMPLE, source="north-plant.toml") -> ansible_export.Host:
    rendered = squid.render(project, squid.stock_conf(), secrets=squid.Secrets(proxy_password_hash=HASH))
    removed = () if project.proxy.auth_enabled else (squid.SquidLayout().passwd_file,)
    return ansible_export.Host(project, source, rendered.files, removed, KEY, "Debian GNU/Linux 13, Squid 6.13")


@given(st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(["  x\n", "\t\n", "a\n  \nb\n", "\n"]))
def test_any_text_reads_back_from_yaml_as_it_was(text):
    scalar = ansible_export.yaml_text(text, 4)
    document = f"files:\n  - path: x\n    content: {scalar}\n"
    assert from_yaml(document)["files"][0]["content"] == text
    assert scalar.startswith("!unsafe ") == ("{" in text)  # what Ansible could take for a template is marked


def test_every_managed_file_is_in_host_vars_byte_for_byte_and_untemplated():
    project = replace(EXAMPLE, sensors=(*EXAMPLE.sensors, Sensor("{{ 7 * 7 }}", "192.168.40.99")))
    h = host(project)
    text = ansible_export.host_vars(h)
    loaded = from_yaml(text)
    assert [f["path"] for f in loaded["sensorproxy_files"]] == [f.path for f in h.files]
    for f, read in zip(h.files, loaded["sensorproxy_files"], strict=True):
        assert read["content"] == f.content
        assert (read["mode"], read["group"], read["secret"]) == (f"{f.mode:04o}", f.group, f.secret)
    assert "content: !unsafe |" in text  # Ansible must not template a sensor's name
    assert "# sensor {{" in loaded["sensorproxy_files"][1]["content"]
    assert loaded["sensorproxy_port"] == 3128
    assert loaded["sensorproxy_absent"] == []
    assert f"sensors:{HASH}\n" in text


def test_a_parent_login_is_exported_without_its_password():
    parent = ParentProxy("10.9.9.9", 8080, "upstream")
    project = replace(EXAMPLE, proxy=replace(EXAMPLE.proxy, parent=parent))
    rendered = squid.render(project, squid.stock_conf(), secrets=squid.Secrets(HASH, parent_password="Par-ent-9"))
    assert "login=upstream:Par-ent-9" in rendered.files[0].content  # what apply writes
    text = ansible_export.host_vars(host(project))
    assert "Par-ent-9" not in text
    loaded = from_yaml(text)
    assert loaded["sensorproxy_parent_user"] == "upstream"
    dropin = loaded["sensorproxy_files"][0]
    assert dropin["parent_login"] is True
    assert dropin["secret"] is True
    assert f"login=upstream:{squid.MASK}\n" in dropin["content"]
    assert [f["parent_login"] for f in loaded["sensorproxy_files"][1:]] == [False, False]


def test_without_a_proxy_login_the_password_file_must_go():
    project = replace(EXAMPLE, proxy=replace(EXAMPLE.proxy, auth_enabled=False, auth_user=""))
    loaded = from_yaml(ansible_export.host_vars(host(project)))
    assert loaded["sensorproxy_absent"] == ["/etc/squid/sensorproxy.passwd"]
    assert "/etc/squid/sensorproxy.passwd" not in [f["path"] for f in loaded["sensorproxy_files"]]


def test_inventory_and_known_hosts_say_how_each_server_is_reached():
    a = host()
    ssh = replace(EXAMPLE.ssh, host="10.1.2.3", port=2222, auth=AuthMethod.PASSWORD, sudo=True, user="ops")
    b = host(replace(EXAMPLE, site="South", ssh=ssh), "south.toml")
    inventory = ansible_export.inventory([a, b]).splitlines()
    assert inventory[2] == "[sensorproxy]"
    line_a = next(line for line in inventory if line.startswith(f"{a.name} "))
    assert f"ansible_user={EXAMPLE.ssh.user}" in line_a
    assert "ansible_port=22" in line_a
    assert next(line for line in inventory if line.startswith("10.1.2.3 ")).split()[1:] == [
        "ansible_host=10.1.2.3", "ansible_port=2222", "ansible_user=ops", "ansible_become=true",
    ]  # fmt: skip
    assert '# "South" ("south.toml"): SSH by password (--ask-pass)' in inventory
    assert ansible_export.known_hosts([a, b]) == f"{a.name} {KEY}\n[10.1.2.3]:2222 {KEY}\n"


def test_a_key_path_with_spaces_reaches_ansible_whole(tmp_path):
    ssh = replace(EXAMPLE.ssh, key_path="C:/Users/Jo Smith/.ssh/id_ed25519")
    ansible_export.write(tmp_path, [host(replace(EXAMPLE, ssh=ssh))])
    env = {**os.environ, "LC_ALL": "C.UTF-8", "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".tmp")}
    shown = subprocess.run(
        [str(Path(os.sys.executable).with_name("ansible-inventory")), "--list"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    facts = json.loads(shown.stdout)["_meta"]["hostvars"][EXAMPLE.ssh.host]
    assert facts["ansible_ssh_private_key_file"] == "C:/Users/Jo Smith/.ssh/id_ed25519"
    assert facts["ansible_user"] == "commissioning"


def test_two_projects_for_one_server_are_refused_by_name(tmp_path):
    with pytest.raises(ansible_export.ExportError, match=r"a\.toml, b\.toml name the same server"):
        ansible_export.write(tmp_path / "out", [host(source="a.toml"), host(source="b.toml")])
    assert not (tmp_path / "out").exists()


def test_the_playbook_uses_only_builtin_modules_and_passes_ansibles_syntax_check(tmp_path):
    (tmp_path / "keep.txt").write_text("the customer's own file\n")
    written = ansible_export.write(tmp_path, [host()])
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == [
        "README.md", "ansible.cfg", f"host_vars/{host().name}.yml", "inventory.ini", "known_hosts", "site.yml",
    ]  # fmt: skip
    assert (tmp_path / "keep.txt").read_text() == "the customer's own file\n"
    play = from_yaml((tmp_path / "site.yml").read_text())[0]

    def modules(tasks):
        for task in tasks:
            if "block" in task:
                yield from modules(task["block"] + task.get("rescue", []))
            else:
                yield next(k for k in task if "." in k)

    used = set(modules(play["tasks"]))
    assert len(used) > 5
    assert all(m.startswith("ansible.builtin.") for m in used), used
    env = {**os.environ, "LC_ALL": "C.UTF-8", "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".tmp")}
    check = subprocess.run(
        [str(Path(os.sys.executable).with_name("ansible-playbook")), "--syntax-check", "site.yml"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_server_without_conf_d_gets_its_whole_squid_conf_with_the_block():
    """Where squid.conf has no conf.d include (Ubuntu 18.04), apply rewrites squid.conf itself with a marked
    block: the export carries that whole file, tabs and comments included, byte for byte."""
    base = (ROOT / "core" / "data" / "ubuntu-18.04.conf").read_text() + "#\tan admin's own note  \n"
    rendered = squid.render(EXAMPLE, base, secrets=squid.Secrets(proxy_password_hash=HASH))
    assert rendered.layout == "block"
    h = ansible_export.Host(EXAMPLE, "old.toml", rendered.files, (), KEY, "Ubuntu 18.04.6 LTS, Squid 3.5.27")
    read = {f["path"]: f["content"] for f in from_yaml(ansible_export.host_vars(h))["sensorproxy_files"]}
    assert read["/etc/squid/squid.conf"] == rendered.file("/etc/squid/squid.conf").content
    assert squid.BEGIN in read["/etc/squid/squid.conf"]
