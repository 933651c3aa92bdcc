"""ParameterList and ParameterDict: a variable number of Parameters, registered like attributes.

A Module finds Parameters by attribute assignment; a Python list of them is
invisible to ``parameters()`` (so no optimizer would train them). These two
register each entry under its index or key, as ``ModuleList`` does for modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterable, Iterator

from minidl.autograd.tensor import Tensor
from minidl.nn.containers import DictOf
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter


def _as_parameter(value: Any, container: str) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach())
    raise TypeError(f"{container} holds Parameters (or Tensors, made Parameters), got {type(value).__name__}")


class ParameterList(Module):
    """A list of Parameters, registered under "0", "1", ...

    >>> import minidl as md, minidl.nn as nn
    >>> scales = nn.ParameterList([nn.Parameter(md.ones((3,))) for _ in range(2)])
    >>> len(scales), [name for name, _ in scales.named_parameters()]
    (2, ['0', '1'])
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value: Any) -> "ParameterList":
        self.register_parameter(str(len(self._parameters)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        for value in values:
            self.append(value)
        return self

    def __getitem__(self, index: int) -> Parameter:
        values = list(self._parameters.values())
        try:
            return values[index]
        except IndexError:
            raise IndexError(f"ParameterList index {index} is out of range for {len(values)} parameters") from None

    def __setitem__(self, index: int, value: Any) -> None:
        self[index]  # the IndexError that names the length
        self.register_parameter(str(index % len(self)), _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a ParameterList has no forward(); use its parameters in your own forward()")


class ParameterDict(DictOf):
    """A dict of Parameters, registered under their keys.

    >>> import minidl as md, minidl.nn as nn
    >>> table = nn.ParameterDict({"scale": nn.Parameter(md.ones((2,)))})
    >>> table["shift"] = md.zeros((2,))
    >>> sorted(name for name, _ in table.named_parameters())
    ['scale', 'shift']
    """

    _kind = "parameter"

    def __init__(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.update(values)

    def _registry(self) -> dict[str, Any]:
        return self._parameters

    def _store(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))
