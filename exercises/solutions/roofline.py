"""Reference solution of exercises/roofline.py."""

from __future__ import annotations


def attainable(intensity: float, peak: float, bandwidth: float) -> float:
    return min(peak, bandwidth * intensity)


def ridge_point(peak: float, bandwidth: float) -> float:
    return peak / bandwidth


def bound(intensity: float, peak: float, bandwidth: float) -> str:
    return "memory" if intensity < ridge_point(peak, bandwidth) else "compute"
