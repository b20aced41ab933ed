"""A site handed over to Ansible: the project a customer's IT runs with `ansible-playbook` once the sensors
are live, with each server's files exactly as `sensorproxy apply` writes them (so either tool can follow
the other and find nothing to change).

It holds `inventory.ini` (one host per server), `host_vars/HOST.yml` (that server's managed files),
`known_hosts` (the host keys sensorproxy verified), `ansible.cfg`, `site.yml` (ansible.builtin modules only)
and a README. The proxy user's password is there only as its hash; the parent proxy's password never: the
playbook takes it from ansible-vault or an extra variable.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from core import __version__, atomicfile, squid
from core.model import AuthMethod, Project

_DATA = resources.files("core") / "data" / "ansible"
# What a YAML literal block carries byte for byte: printable text, tabs, and "\n" as the only line break.
_LITERAL = re.compile(r"[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")


class ExportError(ValueError):
    pass


@dataclass(frozen=True)
class Host:
    """One server as the export describes it."""

    project: Project
    source: str  # the project file's name, for the reader
    files: tuple[squid.ManagedFile, ...]  # every managed file, whole, as apply renders it for this server
    absent: tuple[str, ...]  # managed files that must not exist
    host_key: str  # "TYPE BASE64": the key the server showed and sensorproxy trusts
    system: str  # the server's OS and Squid, as the export read them

    @property
    def name(self) -> str:
        return self.project.ssh.host


def yaml_text(text: str, indent: int) -> str:
    """`text` as a YAML scalar for a mapping value whose key sits `indent` spaces in: a literal block when
    that carries it exactly, else a double-quoted string with escapes. Text with a `{` is tagged !unsafe,
    so Ansible does not template it (a sensor may be named `{{x}}`); other text is not, because Ansible
    reads an !unsafe scalar as if it were plain (`!unsafe "0"` is the number 0)."""
    lines = text.split("\n")[:-1]
    literal = (
        any(lines)  # a block of empty lines only would read back as ""
        and text.endswith("\n")
        and not text.endswith("\n\n")
        and _LITERAL.fullmatch(text) is not None
        and not any(line.strip(" \t") == "" and line for line in lines)  # whitespace-only lines would be lost
    )
    tag = "!unsafe " if "{" in text else ""
    if not literal:
        return f"{tag}{_quoted(text)}"
    pad = " " * (indent + 2)
    # An indentation indicator when the first line starts with white space (YAML would take it as indent).
    head = "|2" if next(line for line in lines if line)[:1] in (" ", "\t") else "|"
    return f"{tag}{head}\n" + "".join(f"{pad}{line}\n" if line else "\n" for line in lines).rstrip("\n")


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar: printable characters as they are, the rest escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch != "\n" and _LITERAL.fullmatch(ch):
            out.append(ch)
        else:
            n = ord(ch)
            out.append(f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")
    return '"' + "".join(out) + '"'


def host_vars(host: Host) -> str:
    project = host.project
    parent = project.proxy.parent
    parent_user = parent.user if parent else ""
    out = [
        f"# sensorproxy {__version__}: site {json.dumps(project.site)} from {json.dumps(host.source)},",
        f"# rendered for {host.name} ({host.system}).",
        "# `sensorproxy apply` writes the same bytes: change the project and export again rather than edit this.",
        f"sensorproxy_port: {project.proxy.port}",
        f"sensorproxy_squid_conf: {yaml_text(squid.SquidLayout().squid_conf, 0)}",
        f"sensorproxy_parent_user: {yaml_text(parent_user, 0)}",
        "sensorproxy_files:",
    ]
    for f in host.files:
        out += [
            f"  - path: {yaml_text(f.path, 4)}",
            f'    mode: "{f.mode:04o}"',
            f"    group: {yaml_text(f.group, 4)}",
            f"    secret: {'true' if f.secret else 'false'}",
            f"    parent_login: {'true' if parent_user and squid.MASK in f.content else 'false'}",
            f"    content: {yaml_text(f.content, 4)}",
        ]
    out.append("sensorproxy_absent:" + ("" if host.absent else " []"))
    out += [f"  - {yaml_text(path, 2)}" for path in host.absent]
    return "\n".join(out) + "\n"


def inventory(hosts: list[Host]) -> str:
    out = [
        f"# sensorproxy {__version__}: one proxy server per site. SSH as the projects say; the host keys",
        "# sensorproxy verified are in known_hosts (ansible.cfg makes ssh check them).",
        "[sensorproxy]",
    ]
    for h in hosts:
        ssh = h.project.ssh
        # Ansible splits a host line as a shell would: a key path with spaces (Windows) needs its quotes.
        fields = [h.name, f"ansible_host={h.name}", f"ansible_port={ssh.port}", f"ansible_user={shlex.quote(ssh.user)}"]
        if ssh.auth is AuthMethod.KEY and ssh.key_path:
            fields.append(f"ansible_ssh_private_key_file={shlex.quote(ssh.key_path)}")
        if ssh.sudo:
            fields.append("ansible_become=true")
        how = "password (--ask-pass)" if ssh.auth is AuthMethod.PASSWORD else "key"
        out += [f"# {json.dumps(h.project.site)} ({json.dumps(h.source)}): SSH by {how}", " ".join(fields)]
    return "\n".join(out) + "\n"


def known_hosts(hosts: list[Host]) -> str:
    lines = []
    for h in hosts:
        port = h.project.ssh.port
        name = h.name if port == 22 else f"[{h.name}]:{port}"
        lines.append(f"{name} {h.host_key}\n")
    return "".join(lines)


def files(hosts: list[Host]) -> dict[str, str]:
    """The export, as relative path -> text."""
    names = [h.name for h in hosts]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        sources = [h.source for h in hosts if h.name in twice]
        raise ExportError(
            f"{', '.join(sources)} name the same server {', '.join(twice)}: one project per server "
            "(each would overwrite the other's files)"
        )
    out = {
        "site.yml": (_DATA / "site.yml").read_text(encoding="utf-8"),
        "ansible.cfg": (_DATA / "ansible.cfg").read_text(encoding="utf-8"),
        "README.md": (_DATA / "README.md").read_text(encoding="utf-8").replace("@VERSION@", __version__),
        "inventory.ini": inventory(hosts),
        "known_hosts": known_hosts(hosts),
    }
    out |= {f"host_vars/{h.name}.yml": host_vars(h) for h in hosts}
    return out


def write(folder: Path, hosts: list[Host]) -> list[Path]:
    """Write the export into `folder` (made when missing), each file whole or not at all. Other files in
    `folder` are left as they are (it may be the customer's repository)."""
    texts = files(hosts)
    written = []
    for relative, text in texts.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomicfile.write_text(path, text)
        written.append(path)
    return written
