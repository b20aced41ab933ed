"""Project files: versioned TOML, saved atomically, never holding a secret.

Loading reports the file, the line and the field of what is wrong. A file written by a newer
sensorproxy (a higher `schema`) is refused rather than half-understood.
"""

from __future__ import annotations

import difflib
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import tomli
import tomli_w

from core import atomicfile
from core.model import DEFAULT_PORT, AuthMethod, ParentProxy, Project, ProxySettings, Sensor, Software, SshTarget
from core.project_keys import KNOWN_KEYS

SCHEMA = 1


class ProjectFileError(ValueError):
    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def to_dict(project: Project) -> dict[str, Any]:
    proxy = project.proxy
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "site": {"name": project.site},
        "ssh": {
            "host": project.ssh.host,
            "port": project.ssh.port,
            "user": project.ssh.user,
            "auth": project.ssh.auth.value,
            "key_path": project.ssh.key_path,
            "sudo": project.ssh.sudo,
        },
        "proxy": {
            "port": proxy.port,
            "auth_enabled": proxy.auth_enabled,
            "auth_user": proxy.auth_user,
            "connect_only": proxy.connect_only,
            "allowlist_enabled": proxy.allowlist_enabled,
            "allowlist": list(proxy.allowlist),
            "allow_wide_ranges": proxy.allow_wide_ranges,
            "sensor_host": proxy.sensor_host,
            # only when set: files made before this field save byte for byte as they were
            **({"endpoints": list(proxy.endpoints)} if proxy.endpoints else {}),
        },
        "sensors": [
            # `software` only when not legacy: files from before it save byte for byte as they were
            {"name": s.name, "address": s.address, "enabled": s.enabled, "notes": s.notes}
            | ({"software": s.software.value} if s.software is not Software.LEGACY else {})
            for s in project.sensors
        ],
    }
    if proxy.parent is not None:
        data["proxy"]["parent"] = {
            "host": proxy.parent.host,
            "port": proxy.parent.port,
            "user": proxy.parent.user,
        }
    return data


def dumps(project: Project) -> str:
    return tomli_w.dumps(to_dict(project))


def save(project: Project, path: Path) -> None:
    atomicfile.write_text(Path(path), dumps(project))


def load(path: Path) -> Project:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectFileError(path, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProjectFileError(path, "the file is not UTF-8 text", line) from None
    if path.suffix.lower() in {".csv", ".txt"} or _looks_like_csv(text):
        raise ProjectFileError(
            path,
            "this is a CSV sensor list, not a project file; the project (.toml) comes first, "
            f"as in `sensorproxy import-csv site.toml {path.name}`",
        )
    return loads(text, path)


def _looks_like_csv(text: str) -> bool:
    """A first line of separated cells with no TOML `=` or `[table]`: a sensor list given as a project."""
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    return "=" not in first and not first.startswith("[") and ("," in first or ";" in first or "\t" in first)


def loads(text: str, path: Path = Path("<project>")) -> Project:
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ProjectFileError(path, f"not valid TOML: {exc.msg or 'malformed TOML'}", exc.lineno) from None
    return from_dict(data, path, text)


class _Reader:
    """Typed access to the parsed TOML that reports the line of a wrong field."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    @cached_property  # split only to report a wrong field: reading a good file never needs it
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_of(self, table: str, key: str, index: int | None = None) -> int | None:
        header = f"[[{table}]]" if index is not None else f"[{table}]"
        seen = -1
        start = None
        for no, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            if stripped == header:
                seen += 1
                if index is None or seen == index:
                    start = no
                    continue
            if start is not None:
                if stripped.startswith("["):
                    return start
                if re.match(rf"{re.escape(key)}\s*=", stripped):
                    return no
        return start

    def top_line_of(self, key: str) -> int | None:
        """The line of a top-level key, or of the table it names."""
        pattern = rf"({re.escape(key)}\s*=|\[\[?{re.escape(key)}[\].])"
        return next((no for no, line in enumerate(self.lines, start=1) if re.match(pattern, line.strip())), None)

    def fail(self, table: str, key: str, message: str, index: int | None = None) -> ProjectFileError:
        where = f"{table}[{index + 1}].{key}" if index is not None else f"{table}.{key}"
        return ProjectFileError(self.path, f"{where}: {message}", self.line_of(table, key, index))

    def get(
        self,
        tbl: dict[str, Any],
        table: str,
        key: str,
        kind: type,
        default: Any = ...,
        index: int | None = None,
    ) -> Any:
        if key not in tbl:
            if default is ...:
                raise self.fail(table, key, "is missing", index)
            return default
        value = tbl[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self.fail(table, key, f"should be {_KIND_NAMES[kind]}, not {value!r}", index)
        return value

    def table(self, data: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
        value = data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise ProjectFileError(self.path, f"the [{key}] table is missing")
        return value


_KIND_NAMES = {str: "text", int: "a whole number", bool: "true or false", list: "a list", dict: "a table"}


def _check_keys(r: _Reader, data: dict[str, Any]) -> None:
    tables: list[tuple[str, Any, int | None]] = [("", data, None)]
    tables += [(t, data.get(t), None) for t in ("site", "ssh", "proxy")]
    if isinstance(data.get("proxy"), dict):
        tables.append(("proxy.parent", data["proxy"].get("parent"), None))
    if isinstance(data.get("sensors"), list):
        tables += [("sensors", s, i) for i, s in enumerate(data["sensors"])]
    for table, values, index in tables:
        if not isinstance(values, dict):
            continue
        if values.keys() <= KNOWN_KEYS[table]:
            continue
        for key in values:
            if key not in KNOWN_KEYS[table]:
                close = difflib.get_close_matches(key, sorted(KNOWN_KEYS[table]), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(sorted(KNOWN_KEYS[table]))})"
                place = f"in [{table}]" if table else "at the top"
                if index is not None:
                    place = f"in sensor {index + 1}"
                line = r.line_of(table, key, index) if table else r.top_line_of(key)
                raise ProjectFileError(r.path, f"{key!r} {place}: unknown key{hint}", line)


_SOFTWARE = {v.value: v for v in Software}


def _sensor(r: _Reader, s: dict[str, Any], i: int) -> Sensor:
    software = r.get(s, "sensors", "software", str, Software.LEGACY.value, index=i)
    if software not in _SOFTWARE:
        choices = " or ".join(repr(v) for v in _SOFTWARE)
        raise r.fail("sensors", "software", f"{software!r} should be {choices}", index=i)
    return Sensor(
        name=r.get(s, "sensors", "name", str, index=i),
        address=r.get(s, "sensors", "address", str, index=i),
        enabled=r.get(s, "sensors", "enabled", bool, True, index=i),
        notes=r.get(s, "sensors", "notes", str, "", index=i),
        software=_SOFTWARE[software],
    )


def from_dict(data: dict[str, Any], path: Path, text: str = "") -> Project:
    r = _Reader(path, text)
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ProjectFileError(path, "no 'schema = N' line; is this a sensorproxy project file?")
    if schema > SCHEMA:
        raise ProjectFileError(
            path, f"written by a newer sensorproxy (schema {schema}; this version reads up to {SCHEMA})"
        )
    if schema < 1:
        raise ProjectFileError(path, f"unknown schema {schema}")
    _check_keys(r, data)
    site = r.table(data, "site")
    ssh = r.table(data, "ssh")
    proxy = r.table(data, "proxy")
    auth_text = r.get(ssh, "ssh", "auth", str, "key")
    try:
        auth = AuthMethod(auth_text)
    except ValueError:
        choices = ", ".join(m.value for m in AuthMethod)
        raise r.fail("ssh", "auth", f"{auth_text!r} is not one of {choices}") from None
    endpoints = r.get(proxy, "proxy", "endpoints", list, [])
    if not all(isinstance(h, str) for h in endpoints):
        raise r.fail("proxy", "endpoints", "should be a list of host names")
    allowlist = r.get(proxy, "proxy", "allowlist", list, list(ProxySettings().allowlist))
    if not all(isinstance(d, str) for d in allowlist):
        raise r.fail("proxy", "allowlist", "should be a list of domain names")
    parent_tbl = proxy.get("parent")
    parent = None
    if parent_tbl is not None:
        if not isinstance(parent_tbl, dict):
            raise r.fail("proxy", "parent", "should be a table")
        parent = ParentProxy(
            host=r.get(parent_tbl, "proxy.parent", "host", str),
            port=r.get(parent_tbl, "proxy.parent", "port", int, DEFAULT_PORT),
            user=r.get(parent_tbl, "proxy.parent", "user", str, ""),
        )
    sensors_raw = data.get("sensors", [])
    if not isinstance(sensors_raw, list):
        raise ProjectFileError(path, "'sensors' should be a list of [[sensors]] tables")
    sensors = []
    for i, s in enumerate(sensors_raw):
        if not isinstance(s, dict):
            raise ProjectFileError(path, f"sensors[{i + 1}] should be a [[sensors]] table")
        name, address, enabled, notes = s.get("name"), s.get("address"), s.get("enabled", True), s.get("notes", "")
        software = s.get("software", Software.LEGACY.value)
        if (
            type(name) is str
            and type(address) is str
            and type(enabled) is bool
            and type(notes) is str
            and (type(software) is str and software in _SOFTWARE)
        ):
            sensors.append(Sensor(name, address, enabled, notes, _SOFTWARE[software]))
        else:  # the same reading, field by field, to say which one is wrong and on which line
            sensors.append(_sensor(r, s, i))
    return Project(
        site=r.get(site, "site", "name", str),
        ssh=SshTarget(
            host=r.get(ssh, "ssh", "host", str),
            user=r.get(ssh, "ssh", "user", str),
            port=r.get(ssh, "ssh", "port", int, 22),
            auth=auth,
            key_path=r.get(ssh, "ssh", "key_path", str, ""),
            sudo=r.get(ssh, "ssh", "sudo", bool, False),
        ),
        proxy=ProxySettings(
            port=r.get(proxy, "proxy", "port", int, DEFAULT_PORT),
            auth_enabled=r.get(proxy, "proxy", "auth_enabled", bool, False),
            auth_user=r.get(proxy, "proxy", "auth_user", str, ""),
            connect_only=r.get(proxy, "proxy", "connect_only", bool, True),
            allowlist_enabled=r.get(proxy, "proxy", "allowlist_enabled", bool, True),
            allowlist=tuple(allowlist),
            parent=parent,
            allow_wide_ranges=r.get(proxy, "proxy", "allow_wide_ranges", bool, False),
            sensor_host=r.get(proxy, "proxy", "sensor_host", str, ""),
            endpoints=tuple(endpoints),
        ),
        sensors=tuple(sensors),
    )
