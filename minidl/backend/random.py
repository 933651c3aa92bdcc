"""Random numbers on the host.

The Array API standard has no random module, so minidl draws on the host with
NumPy's ``default_rng`` and moves the numbers to the backend: one seed gives
the same weights on NumPy, CuPy and array-api-strict.
"""

from __future__ import annotations

import contextvars

import numpy

_rng: contextvars.ContextVar[numpy.random.Generator] = contextvars.ContextVar(
    "minidl_rng", default=numpy.random.default_rng(0)
)


def manual_seed(seed: int) -> None:
    """Reseed minidl's host random generator (weights, ``randn``, dropout, shuffling)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed takes a non-negative integer, got {seed!r}")
    _rng.set(numpy.random.default_rng(seed))


def host_rng() -> numpy.random.Generator:
    """The NumPy generator that all of minidl's random draws come from."""
    return _rng.get()


def seeded_rng(seed: int) -> numpy.random.Generator:
    """A new, independent host generator (for tools that must not disturb the global one)."""
    return numpy.random.default_rng(seed)
