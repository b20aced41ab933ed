"""Garbage collection paused for a block, and then as it was before."""

from __future__ import annotations

import gc

import pytest

from core import gcpause


def test_collection_is_off_inside_and_on_again_after():
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():  # nested: the inner block must not switch it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_comes_back_after_an_error():
    with pytest.raises(ValueError, match="in the block"), gcpause.paused():
        raise ValueError("in the block")
    assert gc.isenabled()


def test_collection_stays_off_when_it_was_off_before():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
