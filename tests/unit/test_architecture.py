"""core is the whole domain and never imports Qt; the GUI is a thin layer over it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import replace

from core import projectfile
from tests.conftest import ROOT


def test_no_module_under_core_imports_qt():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}"
                for n in names
                if n.split(".")[0] in {"PySide6", "shiboken6", "PyQt5", "PyQt6", "gui"}
            ]
    assert offenders == []


TERMINAL = {"getpass.getpass", "sys.stdin", "sys.stdout", "sys.stderr"}


def test_the_domain_talks_to_no_terminal():
    """Asking and printing are the front ends' (cli/, gui/): core gets answers through callbacks."""
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{where} imports {m}" for m in modules if m.split(".")[0] in {"argparse", "cli"}]
            elif isinstance(node, ast.Call) and (called := ast.unparse(node.func)) in {"input", "print", "sys.exit"}:
                offenders.append(f"{where} calls {called}")
            elif isinstance(node, ast.Attribute) and (used := ast.unparse(node)) in TERMINAL:
                offenders.append(f"{where} uses {used}")
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    modules = sorted(
        "core." + ".".join(p.relative_to(ROOT / "core").with_suffix("").parts)
        for p in (ROOT / "core").rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    assert len(modules) >= 6


# What the first paint does not need: it loads on first use (bench/gui.py measures the start-up).
DEFERRED = (
    "paramiko",
    "bcrypt",
    "keyring",
    "PySide6.QtPrintSupport",
    "core.squid",
    "core.credentials",
    "core.csvio",
    "core.sheet",
    "gui.preview",
    "gui.apply_panel",
    "gui.status_view",
    "gui.dialogs",
    "gui.server_actions",
    "gui.secrets",
    "core.logs",
)


def test_the_window_paints_without_what_it_loads_on_first_use(tmp_path):
    """The self-test shows and paints the window without running the event loop: what is loaded then
    is exactly what the first paint needed."""
    example = ROOT / "resources" / "example" / "north-plant.toml"
    code = (
        "import sys\n"
        "from gui import app\n"
        f"assert app.main(['--self-test', {str(example)!r}]) == 0\n"
        f"print(sorted(m for m in {DEFERRED!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    assert "window shown, 5 sensors" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def _runtime_imports(path, package: str) -> set[str]:
    """The `package` modules a module imports when it runs (anywhere in it, but not for type checking)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(f"{package}."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == package:
                found.update(f"{package}.{a.name}" for a in node.names)
            elif node.module.startswith(f"{package}."):
                found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found


def test_the_window_has_no_import_cycle():
    graph = {f"gui.{p.stem}": _runtime_imports(p, "gui") for p in (ROOT / "gui").glob("*.py") if p.stem != "__init__"}
    cycles = []

    def walk(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target in graph:
                walk(target, [*path, target])

    for module in sorted(graph):
        walk(module, [module])
    assert len(graph) >= 10
    assert cycles == []


def test_every_window_unit_reads_at_a_glance():
    """One job per module: a gui/ file past about 350 lines is doing two."""
    sizes = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "gui").glob("*.py")}
    assert len(sizes) >= 10
    assert {name: n for name, n in sizes.items() if n > 350} == {}


def test_every_type_ignore_says_why():
    """A `type: ignore` in the app carries its reason, on its line or the comment line above."""
    unexplained = []
    for path in [*ROOT.glob("core/**/*.py"), *ROOT.glob("cli/*.py"), *ROOT.glob("gui/*.py")]:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "type: ignore" not in line:
                continue
            after = line.split("type: ignore", 1)[1]
            reasons = [part for part in after.split("#")[1:] if not part.strip().startswith("noqa")]
            if not reasons and not lines[i - 1].strip().startswith("#"):
                unexplained.append(f"{path.relative_to(ROOT)}:{i + 1}")
    assert unexplained == []


# What a command that never touches a server must not load (issue 21: `--version` took 0.56 s with them).
SERVER_ONLY = ("paramiko", "keyring", "bcrypt", "cryptography", "nacl", "core.remote.session")
LOCAL_COMMANDS = [
    ["--version"],
    ["--help"],
    ["apply", "--help"],
    ["validate", "{example}"],
    ["render", "{example}"],
    ["export-csv", "{example}", "{tmp}/sensors.csv"],
    ["sheet", "{example}", "{tmp}/sheet.csv"],
]


def test_commands_that_touch_no_server_load_no_ssh_keyring_or_bcrypt(tmp_path):
    example = ROOT / "resources" / "example" / "north-plant.toml"
    results = []
    for argv in LOCAL_COMMANDS:
        args = [a.format(example=example, tmp=tmp_path) for a in argv]
        code = (
            "import sys\n"
            "from cli.main import main\n"
            f"try:\n    code = main({args!r})\nexcept SystemExit as exc:\n    code = exc.code\n"
            f"print('exit', code, sorted(m for m in {SERVER_ONLY!r} if m in sys.modules))\n"
        )
        env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
        results.append((argv[0], proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr))
    assert results == [(argv[0], "exit 0 []") for argv in LOCAL_COMMANDS]


# What a server command loads only when it needs it: every one of them adds to each apply's start.
SERVER_LATER = ("invoke", "unittest.mock", "core.bundle", "core.fetch", "core.remote.outbound", "cryptography.x509")


def test_an_apply_loads_ssh_once_and_nothing_it_does_not_use(tmp_path):
    project = projectfile.load(ROOT / "resources" / "example" / "north-plant.toml")
    path = tmp_path / "site.toml"
    projectfile.save(replace(project, ssh=replace(project.ssh, host="127.0.0.1", port=9)), path)  # refused
    code = (
        "import sys\nfrom cli.main import main\n"
        f"code = main(['apply', {str(path)!r}, '--yes'])\n"
        "loaded = lambda m: sys.modules.get(m) is not None\n"
        f"print('exit', code, loaded('paramiko'), sorted(m for m in {SERVER_LATER!r} if loaded(m)))\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "SENSORPROXY_PROXY_PASSWORD": "x", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.stdout.strip().splitlines()[-1] == "exit 1 True []", proc.stdout + proc.stderr
    assert "127.0.0.1" in proc.stderr  # it did try the server, and said so


def test_version_loads_only_the_parser():
    code = (
        "import sys\nfrom cli.main import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('core', 'cli')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert proc.stdout.strip().splitlines()[-1] == str(
        ["cli", "cli.errors", "cli.main", "cli.parser", "core", "core.project_keys", "core.secret_kind"]
    )


def test_every_command_names_a_function_that_exists():
    """Commands are imported when they run: a misspelt name would only fail when someone runs it."""
    import argparse
    import importlib

    from cli.parser import build_parser

    def funcs(parser: argparse.ArgumentParser) -> list[str]:
        found = [parser.get_default("func")] if parser.get_default("func") else []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    found += funcs(child)
        return found

    names = funcs(build_parser())
    missing = [
        n
        for n in names
        if not callable(getattr(importlib.import_module(f"cli.{n.split(':')[0]}"), n.split(":")[1], None))
    ]
    assert len(names) >= 20
    assert missing == []
