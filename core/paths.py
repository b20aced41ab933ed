"""Where sensorproxy keeps its own files on the laptop (known_hosts, settings)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def config_dir() -> Path:
    """The per-user config directory; SENSORPROXY_CONFIG_DIR overrides it (portable installs, tests)."""
    override = os.environ.get("SENSORPROXY_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("sensorproxy", appauthor=False))


def cache_dir() -> Path:
    """Downloaded packages, kept by checksum for the next bundle; SENSORPROXY_CACHE_DIR overrides it."""
    override = os.environ.get("SENSORPROXY_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("sensorproxy", appauthor=False))
