"""Exercise, chapter 2 (Tensors and the Array API): when can a reshape be a view?

A view reads its base's elements through strides: element ``(i, j)`` of a view
with strides ``(s0, s1)`` is element ``i * s0 + j * s1`` of the base. A
transpose or a column slice has strides that are not row-major, and reshaping
it can then need a copy. Write ``reshape_strides(shape, strides, new_shape)``:
the strides a view of shape ``new_shape`` over the same elements (in row-major
order) would have, or ``None`` where no strides can do it (then PyTorch's
``reshape`` copies and its ``view`` raises).

Hint: cut the old axes into runs whose strides chain (``strides[d - 1] ==
strides[d] * shape[d]``); each run must be covered by whole new axes, which
take strides going up from the run's last stride. The strides of axes of
length 1 do not matter.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_view_strides.py -q``
"""

from __future__ import annotations


def reshape_strides(shape: tuple[int, ...], strides: tuple[int, ...], new_shape: tuple[int, ...]):
    raise NotImplementedError("exercise view_strides: write reshape_strides (cut the axes into contiguous runs)")
