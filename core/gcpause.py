"""Garbage collection paused for a burst of work that makes many objects and frees few."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block; afterwards collection is on again if it was before. Start-up and
    validating thousands of sensors make objects that live on (modules, cached checks): each collection
    meanwhile scans every live object and finds no garbage, and with a big project open that scan is
    most of the work."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
