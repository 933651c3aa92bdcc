"""Exercise view_strides: a view's strides after a reshape, checked element by element with NumPy."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

EXERCISE = "view_strides"

# (a view of a 24-element base: shape, strides) -> new shapes to try
VIEWS = {
    ((2, 3, 4), (12, 4, 1)): [(6, 4), (24,), (2, 12), (4, 3, 2), (1, 24, 1)],   # contiguous: always a view
    ((4, 3, 2), (1, 4, 12)): [(24,), (4, 6), (12, 2), (4, 3, 2, 1)],              # a full transpose
    ((3, 4), (8, 1)): [(12,), (3, 2, 2), (6, 2)],                                  # every other block of rows
    ((2, 3, 4), (12, 1, 3)): [(2, 12), (6, 4), (2, 3, 2, 2)],                      # the last two axes swapped
    ((2, 1, 4), (12, 7, 1)): [(8,), (2, 4), (2, 2, 2), (1, 2, 4, 1)],              # a length-1 axis
}


def _elements(shape, strides):
    return as_strided(np.arange(24), shape, tuple(s * 8 for s in strides))  # int64: 8 bytes per element


def test_views_read_the_right_elements_and_copies_are_refused(ex):
    for (shape, strides), new_shapes in VIEWS.items():
        source = _elements(shape, strides)
        for new_shape in new_shapes:
            got = ex.reshape_strides(shape, strides, new_shape)
            try:  # NumPy's own rule: copy=False refuses where no view can be made
                source.reshape(new_shape, copy=False)
                possible = True
            except ValueError:
                possible = False
            assert (got is not None) == possible, f"{shape} strides {strides} -> {new_shape}: " \
                                                  f"{'a view exists' if possible else 'no view exists'}, got {got}"
            if got is not None:
                np.testing.assert_array_equal(_elements(new_shape, got), source.reshape(new_shape),
                                              err_msg=f"{shape} strides {strides} -> {new_shape}: strides {got}")
