"""`sensorproxy set` and `sensorproxy sensor`: change a project without editing TOML by hand.

Each change goes through the project file's own reader (types, known keys) and the same validation
the window uses; a refused change leaves the file as it was, and an accepted one is saved atomically.
"""

from __future__ import annotations

import argparse
import difflib
import re
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from core import endpoint_list, project_keys, projectfile
from core.model import InvalidProject, ParentProxy, Problem, Project, Sensor, Software, plural, sensor_label, validate

SETTING = re.compile(r"(?P<key>[a-z_.]+)\s*(?P<op>\+=|-=|=)(?P<value>.*)", re.DOTALL)
TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
ALIASES = {"site": "site.name"}


class EditError(ValueError):
    """A setting that cannot be applied as written; nothing was saved."""


def _convert(key: str, current: Any, text: str) -> Any:
    """The typed value a setting's text stands for, judged by the type the key holds now."""
    text = text.strip()
    if isinstance(current, bool):
        if text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
        raise EditError(f"{key}: {text!r} is not true or false")
    if isinstance(current, int):
        if not re.fullmatch(r"\d{1,5}", text):
            raise EditError(f"{key}: {text!r} is not a whole number")
        return int(text)
    if isinstance(current, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def apply_setting(data: dict[str, Any], setting: str) -> None:
    m = SETTING.fullmatch(setting.strip())
    if not m:
        raise EditError(f"{setting!r} is not KEY=VALUE (or KEY+=VALUE, KEY-=VALUE for lists)")
    key, op, text = ALIASES.get(m["key"], m["key"]), m["op"], m["value"]
    settable = project_keys.settable()
    if key not in settable:
        same_name = [k for k in settable if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]]
        close = same_name or difflib.get_close_matches(key, settable, n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; settable: {', '.join(settable)}"
        raise EditError(f"{key!r} is not a project setting{hint}")
    if key == "proxy.parent":
        if op != "=" or text.strip().lower() not in {"none", "off", ""}:
            raise EditError("proxy.parent can only be removed (proxy.parent=none); set proxy.parent.host to add one")
        data["proxy"].pop("parent", None)
        return
    *tables, name = key.split(".")
    table = data
    for t in tables:
        if t == "parent" and "parent" not in table:
            table["parent"] = asdict(ParentProxy(host=""))
        table = table[t]
    current = table[name]
    value = _convert(key, current, text)
    if op != "=":
        if not isinstance(current, list):
            raise EditError(f"{key} is not a list: use {key}=VALUE")
        value = (
            current + [v for v in value if v not in current] if op == "+=" else [v for v in current if v not in value]
        )
    table[name] = value


def cmd_set(args: argparse.Namespace) -> int:
    path: Path = args.project
    project = projectfile.load(path)
    data = projectfile.to_dict(project)
    for setting in args.settings:
        apply_setting(data, setting)
    changed = projectfile.from_dict(data, path)
    _save_if_valid(project, changed, path)
    print(f"{path}: set {', '.join(s.split('=')[0].rstrip('+-') for s in args.settings)}")
    return 0


def _save_if_valid(before: Project, after: Project, path: Path) -> None:
    """Save `after` unless it has a problem `before` did not have (those are reported, nothing is saved).
    Problems are matched without sensor numbers, which shift when a sensor is removed."""

    def key(p: Problem) -> tuple[str, str, str, str]:
        return p.section, p.field, p.name, re.sub(r"\bsensor \d+", "sensor", p.message)

    old = {key(p) for p in validate(before)}
    new = [p for p in validate(after) if key(p) not in old]
    if new:
        raise InvalidProject(new)
    projectfile.save(after, path)


def _find(project: Project, wanted: str) -> int:
    """The index of the sensor with this name (any case) or address."""
    for i, s in enumerate(project.sensors):
        if s.name.casefold() == wanted.casefold() or s.address == wanted:
            return i
    names = ", ".join(s.name for s in project.sensors[:10]) or "none"
    raise EditError(f"no sensor is named {wanted!r} or has that address (sensors: {names})")


def cmd_sensor(args: argparse.Namespace) -> int:
    path: Path = args.project
    project = projectfile.load(path)
    sensors = list(project.sensors)
    if args.action == "add":
        software = Software(args.software) if args.software else Software.LEGACY
        new = Sensor(args.name, args.address, not args.disabled, args.notes, software)
        sensors.append(new)
        done = f"added {sensor_label(len(sensors), new.name)}"
    else:
        rows = sorted({_find(project, name) for name in args.names})
        if args.action == "remove":
            sensors = [s for i, s in enumerate(sensors) if i not in rows]
        else:
            for i in rows:
                sensors[i] = replace(sensors[i], enabled=args.action == "enable")
        verb = {"remove": "removed", "enable": "enabled", "disable": "disabled"}[args.action]
        done = f"{verb} {plural(len(rows), 'sensor')}: {', '.join(project.sensors[i].name for i in rows)}"
    _save_if_valid(project, replace(project, sensors=tuple(sensors)), path)
    print(f"{path}: {done}")
    return 0


def cmd_allowlist(args: argparse.Namespace) -> int:
    path: Path = args.project
    project = projectfile.load(path)
    try:
        hosts = endpoint_list.parse(args.file.read_text(encoding="utf-8-sig"), str(args.file))
    except (OSError, UnicodeDecodeError) as exc:
        raise EditError(f"{args.file}: cannot be read ({exc})") from None
    except endpoint_list.EndpointListError as exc:
        raise EditError(str(exc)) from None
    merged = endpoint_list.merge(project.proxy.allowlist, hosts)
    if merged.added:
        _save_if_valid(project, replace(project, proxy=replace(project.proxy, allowlist=merged.allowlist)), path)
    print(f"{path}: {merged.summary()}")
    return 0
