"""The exercises (``exercises/``): every test passes on the reference solution and fails on the skeleton.

Each exercise test takes the implementation under test as its one argument,
``ex``; here each is called twice, with the solution (it must pass) and with
the skeleton (it must raise NotImplementedError: a test that a blank skeleton
passes tests nothing).  A learner runs the same tests on their own work with
``MINIDL_EXERCISES=skeletons python -m pytest exercises -q``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) puts tests/ first, not the root
    sys.path.insert(0, str(ROOT))

from exercises import load  # noqa: E402

TESTS = ROOT / "exercises" / "tests"
MODULES = sorted(info.name for info in pkgutil.iter_modules([str(TESTS)]) if info.name.startswith("test_"))


def _cases() -> list:
    cases = []
    for name in MODULES:
        module = importlib.import_module(f"exercises.tests.{name}")
        for test_name, test in vars(module).items():
            if test_name.startswith("test_") and inspect.isfunction(test):
                assert list(inspect.signature(test).parameters) == ["ex"], (
                    f"exercises/tests/{name}.py::{test_name} must take exactly one argument, ex")
                cases.append(pytest.param(module, test, id=f"{module.EXERCISE}::{test_name}"))
    return cases


CASES = _cases()


def test_every_exercise_has_a_skeleton_a_solution_and_tests():
    exercised = {case.values[0].EXERCISE for case in CASES}
    skeletons = {p.stem for p in TESTS.parent.glob("*.py") if not p.stem.startswith("_") and p.stem != "cudasim"}
    solutions = {p.stem for p in (TESTS.parent / "solutions").glob("*.py") if not p.stem.startswith("_")}
    assert skeletons == solutions == exercised, (skeletons, solutions, exercised)
    assert len(exercised) >= 10


@pytest.mark.parametrize("module, test", CASES)
def test_passes_on_the_solution(module, test):
    test(load(module.EXERCISE, "solutions"))


@pytest.mark.parametrize("module, test", CASES)
def test_fails_on_the_blank_skeleton(module, test):
    try:
        test(load(module.EXERCISE, "skeletons"))
    except NotImplementedError:
        return
    pytest.fail(f"exercises/{module.EXERCISE}.py does not raise NotImplementedError: if you solved it in place, "
                "that is expected (`git stash` gives the blank skeleton back); if not, this test passes on a "
                "blank skeleton and so tests nothing")
