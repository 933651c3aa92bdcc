"""Reference solution of exercises/view_strides.py."""

from __future__ import annotations


def reshape_strides(shape: tuple[int, ...], strides: tuple[int, ...], new_shape: tuple[int, ...]):
    shape, strides, new_shape = tuple(shape), tuple(strides), tuple(new_shape)
    if not shape or 0 in shape:  # no element, or one: any row-major strides do
        out, step = [], 1
        for size in reversed(new_shape):
            out.append(step)
            step *= max(size, 1)
        return tuple(reversed(out))
    out = [0] * len(new_shape)
    new_axis = len(new_shape) - 1
    run_stride, run_count, new_count = strides[-1], 1, 1   # the run being covered, from the last axis
    for axis in range(len(shape) - 1, -1, -1):
        run_count *= shape[axis]
        run_ends = axis == 0 or (shape[axis - 1] != 1 and strides[axis - 1] != run_count * run_stride)
        if not run_ends:
            continue
        while new_axis >= 0 and (new_count < run_count or new_shape[new_axis] == 1):
            out[new_axis] = new_count * run_stride
            new_count *= new_shape[new_axis]
            new_axis -= 1
        if new_count != run_count:  # a new axis would straddle two runs
            return None
        if axis > 0:
            run_stride, run_count, new_count = strides[axis - 1], 1, 1
    return tuple(out) if new_axis == -1 else None
