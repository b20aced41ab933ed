"""sensorproxy as an installed distribution: its packages live under this one name.

The code's own folders are `core/`, `gui/` and `cli/`, which import each other by those short names. In
site-packages they are installed as `sensorproxy/core`, `sensorproxy/gui` and `sensorproxy/cli`, so no
other distribution's `core` is overwritten or shadowed; the entry points below put sensorproxy's home
first on the path of the sensorproxy process only, where the short names then mean sensorproxy's own.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def home() -> str:
    """The directory that holds core/, gui/ and cli/: this package's folder in a wheel install, the
    checkout in an editable one."""
    spec = importlib.util.find_spec("sensorproxy.core")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("sensorproxy.core is not installed")
    return str(Path(spec.origin).parent.parent)


def _use_home() -> None:
    if (where := home()) not in sys.path:
        sys.path.insert(0, where)


def cli() -> int:
    """The `sensorproxy` command."""
    _use_home()
    from cli.main import main

    return main()


def gui() -> int:
    """The `sensorproxy-gui` window."""
    _use_home()
    from gui.app import main

    return main()
