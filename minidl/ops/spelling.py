"""Both spellings of a keyword: the Array API's (``axis``, ``keepdims``) and PyTorch's (``dim``, ``keepdim``).

One decorator, :func:`torch_keywords`, renames PyTorch's keywords to the
standard's before the function runs, so each op is written once, with the
standard's names. A keyword that neither spelling knows is refused with the
names the function does take (and, for a few PyTorch keywords minidl spells
otherwise, what to write instead).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

# PyTorch's keyword -> the standard's (minidl's) keyword.
RENAMED = {"dim": "axis", "keepdim": "keepdims", "input": "x", "start_dim": "start_axis", "end_dim": "end_axis"}

# PyTorch keywords with no one-to-one rename: what to do instead.
ADVICE = {
    "out": "minidl ops return a new tensor; assign the result (y = md.op(...)) instead of out=",
    "dtype": "convert the result with .astype(dtype) (or .to(dtype))",
    "layout": "minidl tensors are always dense (strided)",
    "memory_format": "minidl arrays have one memory layout; leave memory_format out",
    "pin_memory": "minidl has no pinned host memory; leave pin_memory out",
    "non_blocking": "minidl copies are synchronous; leave non_blocking out",
}


def torch_keywords(function: Callable) -> Callable:
    """Let ``function`` (written with the standard's names) also take PyTorch's ``dim=`` / ``keepdim=``."""
    parameters = inspect.signature(function).parameters
    accepted = set(parameters)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    shape_varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL and name == "shape"
                        for name, p in parameters.items())

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not kwargs:  # the common case costs one test
            return function(*args)
        if shape_varargs and "size" in kwargs and not args:  # md.zeros(size=(2, 3)), as torch.zeros(size=...)
            args = (kwargs.pop("size"),)
        for torch_name, own_name in RENAMED.items():
            if torch_name in kwargs and torch_name not in accepted and own_name in accepted:
                if own_name in kwargs:
                    raise TypeError(f"{function.__name__}() got both {own_name}= and {torch_name}= "
                                    f"(the same argument in two spellings); pass one")
                kwargs[own_name] = kwargs.pop(torch_name)
        if not takes_any:
            unknown = [name for name in kwargs if name not in accepted]
            if unknown:
                raise TypeError(unknown_keyword_message(function.__name__, unknown[0], accepted))
        return function(*args, **kwargs)

    return call


def unknown_keyword_message(op: str, name: str, accepted: set[str]) -> str:
    """The error for a keyword ``op`` does not take: what it does take, and PyTorch advice if any."""
    known = ", ".join(sorted(n for n in accepted if n not in ("args", "kwargs")))
    advice = f" ({ADVICE[name]})" if name in ADVICE else ""
    return f"{op}() got an unexpected keyword argument {name!r}{advice}; it takes: {known}"
