"""What a library's own ``erf`` buys GELU: minidl's exp-built ``Phi`` against the library's ``erf``, and PyTorch.

GELU needs ``erf``, which the Array API standard lacks. On NumPy minidl builds
``Phi`` from ``exp`` (a Chebyshev fit, thirty-four passes over the
activations); where the library has an ``erf`` of its own (its `Library`
record names it: CuPy, PyTorch, JAX) GELU calls that. This benchmark times
GELU forward + backward on torch tensors three ways, in one process, round
after round in a rotating order:

- ``minidl-own-erf``: minidl's GELU on torch tensors (``torch.special.erf``: the forward,
  with the derivative it keeps for the backward, is eleven passes);
- ``minidl-series``: the same with the record's ``erf`` removed (the exp-built ``Phi``:
  thirty-seven passes);
- ``torch``: ``torch.nn.functional.gelu`` (one fused kernel each way).

The printed figures are medians over rounds of each time over ``torch``'s, and
of the series' time over the own erf's (with the range over rounds: that ratio
does not move with torch's own, noisier, times).
On the GPU (``--device cuda``) the tensors live on the GPU and the clock waits
for it after each block.

    python benchmarks/gelu_erf.py OUT                   # CPU, one thread
    python benchmarks/gelu_erf.py --device cuda OUT     # torch CUDA tensors

Results: ``OUT/gelu_erf.json`` (every round, the environment) and ``OUT/gelu_erf.txt``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # mlp_step's environment, and minidl from this checkout

from mlp_step import environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--rows", type=int, default=4096, help="activation rows (GPT example: 64 x 256 = 16384)")
    parser.add_argument("--width", type=int, default=1536, help="activation width (GPT example: 4 x 384)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5, help="forward + backward calls per timed block")
    args = parser.parse_args()

    import torch
    import minidl as md
    import minidl.nn.functional as F
    from minidl.backend import capabilities

    torch.set_num_threads(1)
    md.set_backend("torch", device=args.device)
    sync = (torch.cuda.synchronize if args.device == "cuda" else (lambda: None))
    own = capabilities.library("torch")
    series = dataclasses.replace(own, erf=None)
    values = torch.randn(args.rows, args.width, generator=torch.Generator().manual_seed(0)).to(args.device)

    def minidl_with(record):
        def run():
            capabilities.register(record)  # the record md.erf and GELU consult
            try:
                x = md.tensor(values, requires_grad=True)
                F.gelu(x).sum().backward()
            finally:
                capabilities.register(own)
        return run

    def torch_gelu():
        x = values.clone().requires_grad_(True)
        torch.nn.functional.gelu(x).sum().backward()

    variants = {"minidl-own-erf": minidl_with(own), "minidl-series": minidl_with(series), "torch": torch_gelu}
    for run in variants.values():  # warm up
        run()
    x = md.tensor(values, requires_grad=True)
    difference = float((F.gelu(x).data - torch.nn.functional.gelu(values)).abs().max())

    seconds: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_index in range(args.rounds):
        for name in names[round_index % len(names):] + names[:round_index % len(names)]:
            sync()
            start = time.perf_counter()
            for _ in range(args.repeats):
                variants[name]()
            sync()
            seconds[name].append((time.perf_counter() - start) / args.repeats)
    ratios = {name: statistics.median(m / t for m, t in zip(seconds[name], seconds["torch"])) for name in names}
    lines = [f"GELU forward + backward of a ({args.rows}, {args.width}) float32 activation on torch "
             f"{torch.__version__} tensors ({args.device}, {torch.get_num_threads()} thread), median of "
             f"{args.rounds} interleaved rounds, wall clock",
             f"{'variant':<16}{'ms':>9}{'/ torch':>9}"]
    for name in names:
        lines.append(f"{name:<16}{statistics.median(seconds[name]) * 1e3:>9.2f}{ratios[name]:>9.2f}")
    series_over_own = [s / o for s, o in zip(seconds["minidl-series"], seconds["minidl-own-erf"])]
    lines.append(f"minidl-series / minidl-own-erf: median {statistics.median(series_over_own):.2f}, rounds "
                 f"{min(series_over_own):.2f} to {max(series_over_own):.2f}")
    lines.append(f"largest |minidl - torch| of the forward (own erf): {difference:.2e}")
    text = "\n".join(lines)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gelu_erf.txt").write_text(text + "\n")
    (out / "gelu_erf.json").write_text(json.dumps({"args": vars(args), "seconds": seconds, "ratios": ratios,
                                                   "environment": {**environment(args.device),
                                                                   "torch": torch.__version__}}, indent=1))


if __name__ == "__main__":
    main()
