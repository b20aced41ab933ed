"""The `sensorproxy` command: the same core calls the desktop window uses."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from pathlib import Path

from cli import bundle as bundle_cli
from cli import edit
from cli import server as cli_server
from cli.errors import CliError, UsageError
from core import __version__, atomicfile, bundle, credentials, csvio, kit, logs, projectfile, sheet, squid
from core.model import InvalidProject, Project, SshTarget, plural, require_valid, validate
from core.remote.errors import RemoteError
from core.secret_kind import Kind

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """\
exit codes:
  0  done (validate: no problems)
  1  the project or a file has problems, or the operation failed; the message says what and where
  2  the command line is wrong or incomplete (a change to the server with neither --yes nor a terminal)

Passwords never go on the command line.
"""


def _parse_ssh(value: str) -> tuple[str, str, int]:
    m = re.fullmatch(r"([^@\s]+)@(\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+)(?::(\d+))?", value)
    if not m:
        raise argparse.ArgumentTypeError(f"{value!r} is not USER@HOST or USER@HOST:PORT")
    host = m[2].strip("[]")
    return m[1], host, int(m[3] or 22)


def cmd_new(args: argparse.Namespace) -> int:
    path: Path = args.project
    if path.exists() and not args.force:
        raise CliError(f"{path} exists already; use --force to replace it")
    user, host, port = args.ssh
    project = Project(
        site=args.site,
        ssh=SshTarget(host=host, user=user, port=port, key_path=args.key or "", sudo=args.sudo),
    )
    problems = [p for p in validate(project) if p.section != "sensors"]
    if problems:
        raise InvalidProject(problems)
    projectfile.save(project, path)
    print(f"created {path}")
    return EXIT_OK


def cmd_import_csv(args: argparse.Namespace) -> int:
    project = projectfile.load(args.project)
    result = csvio.read(
        args.csv,
        skip_bad_rows=args.skip_bad_rows,
        allow_wide=project.proxy.allow_wide_ranges,
        existing=project.sensors,
    )
    for error in result.errors:
        print(f"skipped {args.csv}, {error}", file=sys.stderr)
    if result.sensors:
        projectfile.save(replace(project, sensors=project.sensors + result.sensors), args.project)
    total = len(project.sensors) + len(result.sensors)
    print(
        f"imported {len(result.sensors)}, skipped {len(result.errors)} "
        f"(into {args.project}, {plural(total, 'sensor')} in all)"
    )
    return EXIT_OK


def cmd_export_csv(args: argparse.Namespace) -> int:
    project = projectfile.load(args.project)
    csvio.write(project.sensors, args.csv)
    print(f"exported {plural(len(project.sensors), 'sensor')} to {args.csv}")
    return EXIT_OK


SHEET_FORMATS = (".pdf", ".csv")


def cmd_sheet(args: argparse.Namespace) -> int:
    out: Path = args.out
    kind = out.suffix.lower()
    if kind not in SHEET_FORMATS:
        raise UsageError(f"{out}: the sheet's file name must end in .pdf or .csv, which decides its format")
    project = projectfile.load(args.project)
    require_valid(project)
    sheet.proxy_host(project)  # sensors must be able to use the address the sheet tells them
    password = None
    if args.with_password and project.proxy.auth_enabled:
        password = cli_server.secrets(args.project).secret(Kind.PROXY, project)
    if kind == ".csv":
        sheet.write_csv(out, project, password)
    else:
        from gui import sheet_export  # Qt's PDF writer, loaded only for this

        sheet_export.write_pdf_headless(
            sheet.to_html(project, password, generated=sheet.made_by(args.project.name)), out
        )
    print(f"wrote the commissioning sheet for {plural(len(sheet.rows(project)), 'sensor')} to {out}")
    return EXIT_OK


def cmd_kit(args: argparse.Namespace) -> int:
    project = projectfile.load(args.project)
    require_valid(project)
    passwords = cli_server.secrets(args.project).passwords(project)
    data = kit.build(project, passwords, made=sheet.now_stamp())
    atomicfile.write_bytes(args.zip, data)
    print(f"wrote the offline kit to {args.zip}; on the server: unzip it, then sudo sh sensorproxy-kit/apply.sh")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    project = projectfile.load(args.project)
    problems = validate(project)
    for problem in problems:
        print(f"{args.project}: {problem}")
    if problems:
        print(plural(len(problems), "problem"), file=sys.stderr)
        return EXIT_FAILED
    enabled = sum(s.enabled for s in project.sensors)
    print(f"{args.project}: valid ({enabled} of {len(project.sensors)} sensors enabled)")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    project = projectfile.load(args.project)
    conf = args.squid_conf.read_text(encoding="utf-8") if args.squid_conf else squid.stock_conf()
    rendered = squid.render(project, conf)
    for f in rendered.files:
        print(f"### {f.path} (root:{f.group} {f.mode:04o})")
        print(f.content, end="")
    if project.proxy.auth_enabled:
        path = squid.SquidLayout().passwd_file
        print(f"### {path} (root:proxy 0640) is written at apply with the password's hash")
    return EXIT_OK


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

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("project", type=Path, metavar="PROJECT", help="the project file (.toml)")
        return p

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
    p.set_defaults(func=cmd_new)

    p = add("import-csv", "add sensors from a CSV file (name,address[,notes])")
    p.add_argument("csv", type=Path, metavar="CSV")
    p.add_argument("--skip-bad-rows", action="store_true", help="import the good rows, report the bad ones")
    p.set_defaults(func=cmd_import_csv)

    p = add("export-csv", "write the sensors to a CSV file Excel opens")
    p.add_argument("csv", type=Path, metavar="CSV")
    p.set_defaults(func=cmd_export_csv)

    p = add("sheet", "write the commissioning sheet (what to enter on each sensor) as PDF or CSV")
    p.add_argument("out", type=Path, metavar="FILE.pdf|FILE.csv", help="the file name's ending decides the format")
    p.add_argument("--with-password", action="store_true", help="print the proxy password on it (keyring or prompt)")
    p.set_defaults(func=cmd_sheet)

    p = add("kit", "write an offline kit: the files and an apply.sh to run on the server without SSH")
    p.add_argument("zip", type=Path, metavar="ZIP")
    p.set_defaults(func=cmd_kit)

    p = add("validate", "print every problem in the project; exit 1 if there is any")
    p.set_defaults(func=cmd_validate)

    p = add("render", "print the Squid files sensorproxy would manage")
    p.add_argument(
        "--squid-conf",
        type=Path,
        metavar="FILE",
        help="the server's squid.conf (default: Debian 12's stock layout with conf.d)",
    )
    p.set_defaults(func=cmd_render)
    cli_server.add_commands(sub, add)
    edit.add_commands(sub, add)

    bundle_cli.add_commands(sub, EPILOG)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        logs.start(verbose=args.verbose)
    except OSError as exc:  # no log is no reason not to work
        print(f"sensorproxy: no log: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
    logs.log.info("sensorproxy %s %s", args.command, getattr(args, "project", "") or "")
    try:
        code: int = args.func(args)
        return code
    except UsageError as exc:
        print(f"sensorproxy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RemoteError as exc:
        logs.log.warning("%s: %s", exc.title, exc)
        print(f"sensorproxy: {exc.title}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (
        CliError,
        edit.EditError,
        sheet.SheetError,
        InvalidProject,
        projectfile.ProjectFileError,
        csvio.CsvImportError,
        squid.SquidConfigError,
        credentials.MissingSecret,
        credentials.NoSecureStorage,
        bundle.BundleError,
    ) as exc:
        logs.log.warning("%s", exc)
        print(f"sensorproxy: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("sensorproxy: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"sensorproxy: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
