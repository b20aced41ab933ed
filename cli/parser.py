"""The command line's grammar: every command, its arguments and help.

A command names the function that runs it as "module:function" in cli/, imported only when it runs: parsing,
`--help` and `--version` load nothing of sensorproxy beyond this file and the few names its choices need."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias

from core import __version__, project_keys
from core.secret_kind import Kind

EPILOG = """\
exit codes:
  0  done (validate: no problems)
  1  the project or a file has problems, or the operation failed; the message says what and where
  2  the command line is wrong or incomplete (a change to the server with neither --yes nor a terminal)

Passwords never go on the command line.
"""

if TYPE_CHECKING:  # argparse's generic is for type checkers only
    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    Add: TypeAlias = Callable[[str, str], argparse.ArgumentParser]

    class AddSites(Protocol):
        def __call__(self, name: str, help_text: str, *, several: bool = ...) -> argparse.ArgumentParser: ...


class Choices:
    """A choice's values, looked up in core the first time argparse needs them (to check a value or print
    help), so that building the parser imports none of the modules they come from. An argument with these
    choices needs a metavar: without one, argparse lists the choices while the parser is being built."""

    def __init__(self, values: Callable[[], list[str]]) -> None:
        self._values = values
        self._known: list[str] | None = None

    def _get(self) -> list[str]:
        if self._known is None:
            self._known = self._values()
        return self._known

    def __contains__(self, value: object) -> bool:
        return value in self._get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())


def _software() -> list[str]:
    from core.model import Software

    return [v.value for v in Software]


def _releases() -> list[str]:
    from core import releases

    return list(releases.RELEASES)


def _arches() -> list[str]:
    from core import releases

    return list(releases.ARCHES)


def _parse_ssh(value: str) -> tuple[str, str, int]:
    m = re.fullmatch(r"([^@\s]+)@(\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+)(?::(\d+))?", value)
    if not m:
        raise argparse.ArgumentTypeError(f"{value!r} is not USER@HOST or USER@HOST:PORT")
    host = m[2].strip("[]")
    return m[1], host, int(m[3] or 22)


def _count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of sites from 1 to 64")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensorproxy",
        description="Connect Defender for IoT legacy sensors to Azure through a Squid proxy.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sensorproxy {__version__}")
    parser.add_argument(
        "--verbose", action="store_true", help="print what the log records (each step, the server's answers)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, *, several: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if several:
            p.add_argument(
                "project", type=Path, nargs="+", metavar="PROJECT",
                help="the project file (.toml); several: one site each, on its own connection",
            )  # fmt: skip
            p.add_argument(
                "--parallel", type=_count, default=1, metavar="N",
                help="with several projects, run N sites at once (default 1: one after the other)",
            )  # fmt: skip
            p.add_argument(
                "--accept-host-key", action="append", metavar="[HOST=]SHA256:…",
                help="trust this host key fingerprint on first contact (repeatable: HOST=SHA256:… per site)",
            )  # fmt: skip
        else:
            p.add_argument("project", type=Path, metavar="PROJECT", help="the project file (.toml)")
        return p

    _local_commands(add)
    _server_commands(sub, add)
    _edit_commands(sub, add)
    _bundle_commands(sub)
    return parser


def _local_commands(add: Add) -> None:
    p = add("new", "create a project file")
    p.add_argument("--site", required=True, help="the site's name")
    p.add_argument(
        "--ssh",
        required=True,
        type=_parse_ssh,
        metavar="USER@HOST[:PORT]",
        help="the proxy server's SSH login",
    )
    p.add_argument("--key", metavar="PATH", help="private key file for SSH")
    p.add_argument("--sudo", action="store_true", help="the login is not root: use sudo on the server")
    p.add_argument("--force", action="store_true", help="replace an existing project file")
    p.set_defaults(func="local:cmd_new")

    p = add("import-csv", "add sensors from a CSV file (name,address[,notes])")
    p.add_argument("csv", type=Path, metavar="CSV")
    p.add_argument("--skip-bad-rows", action="store_true", help="import the good rows, report the bad ones")
    p.set_defaults(func="local:cmd_import_csv")

    p = add("export-csv", "write the sensors to a CSV file Excel opens")
    p.add_argument("csv", type=Path, metavar="CSV")
    p.set_defaults(func="local:cmd_export_csv")

    p = add("sheet", "write the commissioning sheet (what to enter on each sensor) as PDF or CSV")
    p.add_argument("out", type=Path, metavar="FILE.pdf|FILE.csv", help="the file name's ending decides the format")
    p.add_argument("--with-password", action="store_true", help="print the proxy password on it (keyring or prompt)")
    p.set_defaults(func="local:cmd_sheet")

    p = add("kit", "write an offline kit: the files and an apply.sh to run on the server without SSH")
    p.add_argument("zip", type=Path, metavar="ZIP")
    p.set_defaults(func="local:cmd_kit")

    p = add("validate", "print every problem in the project; exit 1 if there is any")
    p.set_defaults(func="local:cmd_validate")

    p = add("render", "print the Squid files sensorproxy would manage")
    p.add_argument(
        "--squid-conf",
        type=Path,
        metavar="FILE",
        help="the server's squid.conf (default: Debian 12's stock layout with conf.d)",
    )
    p.set_defaults(func="local:cmd_render")


def _server_commands(sub: Subcommands, add: AddSites) -> None:
    p = add("plan", "check mode: show the steps and diffs an apply would make; changes nothing", several=True)
    p.set_defaults(func="server:cmd_plan")

    p = add("apply", "install and configure Squid on the server, then verify it", several=True)
    p.add_argument(
        "--yes", action="store_true", help="do not ask (needed when there is no terminal); never trusts a host key"
    )
    p.add_argument(
        "--bundle", type=Path, metavar="DIR|ZIP", help="install Squid from this bundle, without network (see `bundle`)"
    )
    p.set_defaults(func="server:cmd_apply")

    p = add(
        "check", "from the proxy server: DNS, TCP 443 and TLS to each Azure endpoint; exit 1 if any fails", several=True
    )
    p.add_argument("--host", action="append", metavar="NAME", help="also check this host name (repeatable)")
    p.set_defaults(func="server:cmd_check")

    p = add(
        "export-ansible",
        "hand the sites over to Ansible: read each server and write an Ansible project (inventory, host_vars "
        "with the files apply writes, site.yml) into DIR",
        several=True,
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="where the Ansible project goes (made when missing)")
    p.set_defaults(func="export:cmd_export_ansible")

    p = add("status", "what the server runs and which sensors its rules allow", several=True)
    p.add_argument("--sensors", action="store_true", help="also each sensor's last connection, from the access log")
    p.set_defaults(func="server:cmd_status")

    p = add("rollback", "put back the files from before the last change")
    p.add_argument("--factory", action="store_true", help="go back to squid.conf.factory instead")
    p.add_argument("--yes", action="store_true", help="do not ask (needed when there is no terminal)")
    p.set_defaults(func="server:cmd_rollback")

    p = add("remove", "delete sensorproxy's rules from the server; Squid keeps running")
    p.add_argument("--yes", action="store_true", help="do not ask (needed when there is no terminal)")
    p.set_defaults(func="server:cmd_remove")

    p = sub.add_parser(
        "credentials",
        help="store, delete or list secrets in the OS keyring",
        description="Secrets are read from a prompt, or from stdin when it is not a terminal; "
        "never from the command line.",
    )
    p.add_argument("action", choices=["set", "delete", "status"])
    p.add_argument("project", type=Path, metavar="PROJECT")
    p.add_argument("kind", nargs="?", choices=[k.value for k in Kind])
    p.set_defaults(func="server:cmd_credentials")


def _edit_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], add: Callable[[str, str], argparse.ArgumentParser]
) -> None:
    p = add("set", "change project settings: KEY=VALUE, and KEY+=VALUE or KEY-=VALUE for lists")
    p.add_argument("settings", nargs="+", metavar="KEY=VALUE", help=f"settings: {', '.join(project_keys.settable())}")
    p.set_defaults(func="edit:cmd_set")

    p = sub.add_parser("allowlist", help="add a site's list of Azure endpoints to the destinations")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser(
        "import", help="add the host names of FILE (one per line, or a JSON list), skipping those already let through"
    )
    a.add_argument("project", type=Path, metavar="PROJECT")
    a.add_argument("file", type=Path, metavar="FILE")
    a.set_defaults(func="edit:cmd_allowlist")

    p = sub.add_parser("sensor", help="add, remove, enable or disable sensors", description="Change the sensor list.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="add a sensor")
    a.add_argument("project", type=Path, metavar="PROJECT")
    a.add_argument("name", metavar="NAME")
    a.add_argument("address", metavar="ADDRESS", help="an IP address, or a subnet like 10.20.0.0/28")
    a.add_argument("--notes", default="", help="free text shown in the table and on the sheet")
    a.add_argument("--disabled", action="store_true", help="add it switched off")
    a.add_argument(
        "--software", choices=Choices(_software), metavar="SOFTWARE",
        help="what the sensor runs, %(choices)s: its settings page on the commissioning sheet (default: legacy)",
    )  # fmt: skip
    a.set_defaults(func="edit:cmd_sensor")
    for action, what in (("remove", "remove"), ("enable", "switch on"), ("disable", "switch off")):
        a = actions.add_parser(action, help=f"{what} sensors, named by name or address")
        a.add_argument("project", type=Path, metavar="PROJECT")
        a.add_argument("names", nargs="+", metavar="SENSOR")
        a.set_defaults(func="edit:cmd_sensor")


def _bundle_commands(sub: Subcommands) -> None:
    p = sub.add_parser(
        "bundle",
        help="download Squid and everything it needs for a server's release, for servers without a repository",
        description="Runs on any computer with internet (Windows or Linux; no apt, dpkg or gpg needed): "
        "fetches the release's signed package index, checks it against the archive keys sensorproxy ships "
        "(see archive-keys), and every .deb against it. An interrupted run continues where it stopped. "
        "Then: sensorproxy apply PROJECT --bundle DIR (or a zip of DIR).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="where the bundle goes (an empty folder or an earlier bundle)")
    p.add_argument(
        "--release",
        required=True,
        choices=Choices(_releases),
        metavar="RELEASE",
        help="the server's release: %(choices)s",
    )
    p.add_argument(
        "--arch",
        default="amd64",
        choices=Choices(_arches),
        metavar="ARCH",
        help="the server's architecture: %(choices)s (default: %(default)s)",
    )
    p.add_argument("--mirror", metavar="URL", help="the release's archive (default: Debian's or Ubuntu's own)")
    p.add_argument("--security-mirror", metavar="URL", help="Debian's security archive, when not the default")
    p.add_argument(
        "--no-security", action="store_true", help="leave security updates out (for a mirror that lacks them)"
    )
    p.add_argument("--keyring", type=Path, metavar="FILE", help="trust these OpenPGP keys instead (a site's mirror)")
    p.set_defaults(func="bundle:cmd_bundle")
    about = "print the archive keys bundles are checked against: where they came from, when they expire"
    p = sub.add_parser("archive-keys", help=about, description=about)
    p.set_defaults(func="bundle:cmd_archive_keys")
