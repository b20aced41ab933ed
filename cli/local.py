"""The commands that work on this computer only: new, import-csv, export-csv, sheet, kit, validate, render.

None of them touches a server. Each imports the core modules it alone needs when it runs, so that
`validate` (a fleet job runs it before every apply) loads the project file's reader and nothing more."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from cli.errors import CliError, UsageError
from core import atomicfile, projectfile
from core.model import InvalidProject, Project, SshTarget, plural, require_valid, validate
from core.secret_kind import Kind

EXIT_OK, EXIT_FAILED = 0, 1


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
    from core import csvio

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
    from core import csvio

    project = projectfile.load(args.project)
    csvio.write(project.sensors, args.csv)
    print(f"exported {plural(len(project.sensors), 'sensor')} to {args.csv}")
    return EXIT_OK


SHEET_FORMATS = (".pdf", ".csv")


def cmd_sheet(args: argparse.Namespace) -> int:
    from core import sheet

    out: Path = args.out
    kind = out.suffix.lower()
    if kind not in SHEET_FORMATS:
        raise UsageError(f"{out}: the sheet's file name must end in .pdf or .csv, which decides its format")
    project = projectfile.load(args.project)
    require_valid(project)
    sheet.proxy_host(project)  # sensors must be able to use the address the sheet tells them
    password = None
    if args.with_password and project.proxy.auth_enabled:
        from cli import prompts

        password = prompts.secrets(args.project).secret(Kind.PROXY, project)
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
    from cli import prompts
    from core import kit, sheet  # kit: bcrypt and the server scripts

    project = projectfile.load(args.project)
    require_valid(project)
    passwords = prompts.secrets(args.project).passwords(project)
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
    from core import squid

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
