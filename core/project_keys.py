"""The keys a project file may hold: read by the project file's loader and offered by `sensorproxy set`.

A module of its own, with no imports, so the command line can list the settings without loading the rest.
"""

from __future__ import annotations

# Every key a project file may hold, per table: anything else is a typo to report, not to ignore.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"schema", "site", "ssh", "proxy", "sensors"}),
    "site": frozenset({"name"}),
    "ssh": frozenset({"host", "port", "user", "auth", "key_path", "sudo"}),
    "proxy": frozenset(
        {
            "port",
            "auth_enabled",
            "auth_user",
            "connect_only",
            "allowlist_enabled",
            "allowlist",
            "parent",
            "allow_wide_ranges",
            "sensor_host",
            "endpoints",
        }
    ),
    "proxy.parent": frozenset({"host", "port", "user"}),
    "sensors": frozenset({"name", "address", "enabled", "notes", "software"}),
}


def settable() -> list[str]:
    """The dotted names `sensorproxy set` takes: every key but the site's own and the sensor list's."""
    keys = [f"{table}.{key}" for table, known in KNOWN_KEYS.items()
            if table not in ("", "sensors") for key in known if key != "parent"]  # fmt: skip
    return sorted([*keys, "proxy.parent"])
