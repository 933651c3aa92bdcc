"""Exercise, chapter 9.1 (Where the time goes): the roofline model.

A kernel that does ``intensity`` FLOPs per byte of memory traffic can run no
faster than the arithmetic allows (``peak``, FLOP/s) nor faster than memory
feeds it (``bandwidth * intensity``).  Write:

- ``attainable(intensity, peak, bandwidth)``: the roofline's FLOP/s at that intensity;
- ``ridge_point(peak, bandwidth)``: the intensity where a kernel stops being memory-bound;
- ``bound(intensity, peak, bandwidth)``: ``"memory"`` or ``"compute"``.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_roofline.py -q``
"""

from __future__ import annotations


def attainable(intensity: float, peak: float, bandwidth: float) -> float:
    raise NotImplementedError("exercise roofline: write attainable")


def ridge_point(peak: float, bandwidth: float) -> float:
    raise NotImplementedError("exercise roofline: write ridge_point")


def bound(intensity: float, peak: float, bandwidth: float) -> str:
    raise NotImplementedError("exercise roofline: write bound")
