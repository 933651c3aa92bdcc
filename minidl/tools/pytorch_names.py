"""PyTorch's names beside minidl's: the table behind the docs page "Coming from PyTorch".

The page is generated from `FUNCTIONS`, `DIFFERENCES` and the
Tensor tables of `minidl.ops.torch_methods`, and a test resolves every
minidl name listed, so the page cannot promise a name that does not exist.

>>> from minidl.tools.pytorch_names import resolve
>>> resolve("md.nn.functional.pad").__name__
'pad'
"""

from __future__ import annotations

import importlib
from typing import Any

from minidl.ops.torch_methods import MISSING_ATTRIBUTES, TENSOR_METHODS, TENSOR_PROPERTIES

# (PyTorch, minidl): functions and objects. Several minidl spellings are separated by " / ".
FUNCTIONS: list[tuple[str, str]] = [
    ("torch.tensor(data, dtype=, device=)", "md.tensor"),
    ("torch.as_tensor / from_numpy (keep the array's dtype)", "md.as_tensor / md.from_numpy"),
    ("torch.zeros / ones / full / eye", "md.zeros / md.ones / md.full / md.eye"),
    ("torch.zeros_like / ones_like / full_like", "md.zeros_like / md.ones_like / md.full_like"),
    ("torch.arange / linspace", "md.arange / md.linspace"),
    ("torch.rand / randn / randint / randperm", "md.rand / md.randn / md.randint / md.randperm"),
    ("torch.rand_like / randn_like / normal / bernoulli", "md.rand_like / md.randn_like / md.normal / md.bernoulli"),
    ("torch.multinomial", "md.multinomial"),
    ("torch.manual_seed / torch.Generator", "md.manual_seed / md.Generator"),
    ("torch.float / double / long / int / bool", "md.float / md.double / md.long / md.int / md.bool"),
    ("torch.device / torch.cuda.is_available / torch.backends.mps.is_available",
     "md.device / md.cuda.is_available / md.backends.mps.is_available"),
    ("torch.cat / torch.concat", "md.cat / md.concat"),
    ("torch.stack / split / chunk / unbind", "md.stack / md.split / md.chunk / md.unbind"),
    ("torch.transpose / permute", "md.transpose / md.permute / md.permute_dims"),
    ("torch.unsqueeze / squeeze / flatten", "md.unsqueeze / md.squeeze / md.flatten"),
    ("torch.flip / roll / tril / triu", "md.flip / md.roll / md.tril / md.triu"),
    ("torch.sum / mean / prod / cumsum", "md.sum / md.mean / md.prod / md.cumsum"),
    ("torch.max / min (values, indices with dim)", "md.max / md.min"),
    ("torch.amax / amin", "md.amax / md.amin"),
    ("torch.maximum / minimum", "md.maximum / md.minimum"),
    ("torch.argmax / argmin / sort / argsort / topk", "md.argmax / md.argmin / md.sort / md.argsort / md.topk"),
    ("torch.var / std / logsumexp", "md.var / md.std / md.logsumexp"),
    ("torch.any / all / isnan / isinf / isfinite", "md.any / md.all / md.isnan / md.isinf / md.isfinite"),
    ("torch.where / clamp / clip", "md.where / md.clamp / md.clip"),
    ("torch.exp / log / log1p / expm1 / sqrt / rsqrt", "md.exp / md.log / md.log1p / md.expm1 / md.sqrt / md.rsqrt"),
    ("torch.sin / cos / tanh / sigmoid / erf", "md.sin / md.cos / md.tanh / md.sigmoid / md.erf"),
    ("torch.sign / floor / ceil / round / abs", "md.sign / md.floor / md.ceil / md.round / md.abs"),
    ("torch.remainder / floor_divide (% and //)", "md.remainder / md.floor_divide"),
    ("torch.div(a, b, rounding_mode=None / 'floor' / 'trunc')", "md.div"),
    ("torch.gather / scatter_add / masked_fill", "md.gather / md.scatter_add / md.masked_fill"),
    ("torch.matmul / @", "md.matmul"),
    ("F.pad (constant) / F.one_hot", "md.nn.functional.pad / md.nn.functional.one_hot"),
    ("F.softmax / F.log_softmax (dim=)", "md.nn.functional.softmax / md.nn.functional.log_softmax"),
    ("torch.autograd.Function (ctx style)", "md.Function"),
    ("torch.no_grad / enable_grad", "md.no_grad / md.enable_grad"),
]

# The deliberate differences, and why.
DIFFERENCES: list[tuple[str, str]] = [
    ("`x.size` is the element count; `x.size()` raises and says to write `x.shape`",
     "the Array API standard defines `size` as a property; both cannot hold, and `x.shape` means the same in both"),
    ("`md.max(x, axis=1)` returns values; `md.max(x, 1)` or `dim=1` returns `(values, indices)`",
     "the standard's `max` reduces; PyTorch's with `dim` also finds the indices; the keyword tells them apart"),
    ("`var` and `std` divide by `n - 1` unless `correction=0` / `unbiased=False`",
     "PyTorch's default (the standard's is 0): scripts ported from PyTorch keep their numbers"),
    ("a device is a backend: `'cpu'` keeps a CPU backend (NumPy, array-api-strict), `'cuda'` is CuPy",
     "minidl chooses an array library, not a device; one GPU (`cuda:0`) only"),
    ("random numbers come from NumPy's generator, drawn on the host",
     "one seed gives the same numbers on every backend; they differ from PyTorch's numbers for the same seed"),
    ("a PyTorch-style custom Function returns one Tensor", "a minidl node has one output"),
    ("`md.tensor(float64_array)` is float32; `md.from_numpy` / `md.as_tensor` keep float64, and copy",
     "minidl's float default is float32 everywhere; sharing memory would not survive a move between backends"),
    ("`F.pad` has `mode='constant'` only", "the other modes are not implemented yet; they raise"),
]


def resolve(name: str) -> Any:
    """The object a ``md.``-spelled name refers to (``md.nn.functional.pad``), or AttributeError."""
    path = name.replace("md.", "minidl.", 1).split(".")
    module = importlib.import_module(path[0])
    value: Any = module
    for part in path[1:]:
        value = getattr(value, part)
    return value


def minidl_names() -> list[str]:
    """Every minidl name `FUNCTIONS` promises."""
    return [name.strip() for _, names in FUNCTIONS for name in names.split(" / ")]


def markdown_tables() -> str:
    """The docs page's tables, as Markdown."""
    lines = ["| PyTorch | minidl |", "| --- | --- |"]
    lines += [f"| `{torch}` | `{ours}` |" for torch, ours in FUNCTIONS]
    methods = sorted(set(TENSOR_METHODS) | set(TENSOR_PROPERTIES))
    lines += ["", "Tensor methods and properties with PyTorch's names (also the standard's where it has one):", ""]
    lines += [", ".join(f"`x.{name}`" for name in methods)]
    lines += ["", "| PyTorch attribute | write in minidl |", "| --- | --- |"]
    lines += [f"| `x.{name}` | {advice} |" for name, advice in sorted(MISSING_ATTRIBUTES.items())]
    lines += ["", "| minidl differs | why |", "| --- | --- |"]
    lines += [f"| {what} | {why} |" for what, why in DIFFERENCES]
    return "\n".join(lines)
