"""Exercises for the chapters of the site, in MiniTorch's manner.

Each ``exercises/<name>.py`` is a skeleton: the scaffolding is written, and the
functions you write raise ``NotImplementedError``.  ``exercises/solutions/<name>.py``
holds a reference solution (it imports the scaffolding from the skeleton and
fills in the blanks).  ``exercises/tests/test_<name>.py`` checks an implementation.

Which implementation the tests check is chosen by an environment variable::

    MINIDL_EXERCISES=skeletons python -m pytest exercises -q   # your work: fails until you write it
    MINIDL_EXERCISES=solutions python -m pytest exercises -q   # the reference (the default)

The main test run (``python -m pytest``, through ``tests/test_exercises.py``)
checks that every test passes on the solutions and that every skeleton raises
``NotImplementedError``: once you have solved an exercise in place, that second
check fails for it, which is expected (``git stash`` gives the blank skeleton back).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

KINDS = ("solutions", "skeletons")


def chosen_kind() -> str:
    """``MINIDL_EXERCISES``: ``solutions`` (the default) or ``skeletons``."""
    kind = os.environ.get("MINIDL_EXERCISES", "solutions").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"MINIDL_EXERCISES={kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def load(name: str, kind: str | None = None) -> ModuleType:
    """The module of exercise ``name``: the skeleton you edit, or the reference solution."""
    kind = kind or chosen_kind()
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    return importlib.import_module(f"exercises.{name}" if kind == "skeletons" else f"exercises.solutions.{name}")
