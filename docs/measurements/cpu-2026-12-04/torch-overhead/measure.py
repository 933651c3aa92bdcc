"""Where minidl's step on torch tensors spends its time beyond the array calls (issue 18's 1.05 goal).

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-04/torch-overhead/measure.py OUT

Three SGD steps of the MLP of ``benchmarks/mlp_step.py``, on torch CPU tensors, one thread:

- ``minidl-torch``: minidl's functional step (``benchmarks/mlp_impls.py``);
- ``torch``: PyTorch eager (nn.Sequential, F.cross_entropy, optim.SGD);
- ``array-calls``: the same array calls as minidl's step, in the same order, through array-api-compat, written
  out by hand: no Tensors, no graph, no checks. Its time is what minidl's step would take with an engine that
  cost nothing, so ``minidl-torch - array-calls`` is the engine's own cost (Python).

At 784-128-128-10 / batch 64 and at 8-16-16-4 / batch 4 (where the arithmetic is negligible); 7 interleaved
rounds, process CPU time, medians. Writes OUT/torch_overhead.txt with the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _array_calls(sizes, batch):
    """minidl's step as its array calls (ReLU by float arithmetic, cross-entropy's one-hot and label check)."""
    import array_api_compat.torch as xp
    import torch

    from mlp_impls import LEARNING_RATE, fixed_batch, initial_weights

    layers = [(torch.from_numpy(w.copy()), torch.from_numpy(b.copy())) for w, b in initial_weights(sizes)]
    x_host, y_host = fixed_batch(sizes, batch)
    x, labels = torch.from_numpy(x_host), torch.from_numpy(y_host)

    def run():
        inputs, masks, h = [], [], x
        for index, (weight, bias) in enumerate(layers):
            inputs.append(h)
            h = h @ weight.T
            h += bias
            if index < len(layers) - 1:
                masks.append(xp.ceil(xp.clip(h, min=0, max=1)))
                h = xp.clip(h, min=0)
        picks = labels[:, None] == xp.arange(h.shape[1], dtype=labels.dtype, device=labels.device)
        if int(xp.count_nonzero(picks)) != h.shape[0]:
            raise ValueError("a label out of range")
        one_hot = xp.astype(picks, h.dtype)
        shifted = h - xp.max(h, axis=-1, keepdims=True)
        exps = xp.exp(shifted)
        sums = xp.sum(exps, axis=-1, keepdims=True)
        probabilities = exps / sums
        loss = xp.sum(xp.where(picks, xp.log(sums) - shifted, 0.0)) * (1.0 / batch)
        grad = (xp.ones_like(loss) * (1.0 / batch)) * (probabilities - one_hot)
        for index in range(len(layers) - 1, -1, -1):
            weight, bias = layers[index]
            grad_weight, grad_bias = grad.T @ inputs[index], xp.sum(grad, axis=(0,))
            if index > 0:
                grad = (grad @ weight) * masks[index - 1]
            weight -= LEARNING_RATE * grad_weight
            bias -= LEARNING_RATE * grad_bias
        return loss

    return run


def main() -> None:
    import torch

    import mlp_impls
    from measuring import interleaved_medians, write_report
    from mlp_step import environment

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    machine = environment("cpu")  # (its load average: before the rounds)
    lines = []
    for sizes, batch, calls in (([784, 128, 128, 10], 64, 400), ([8, 16, 16, 4], 4, 3000)):
        steps = {name: mlp_impls.build(name, sizes, batch, "cpu").run for name in ("minidl-torch", "torch")}
        steps["array-calls"] = _array_calls(sizes, batch)
        medians = interleaved_medians(steps, rounds=7, calls=calls, warmup=20)
        lines.append(f"{'-'.join(map(str, sizes))}, batch {batch} ({calls} steps a round)")
        lines += [f"  {name:14s} {us:8.1f} us per step" for name, us in medians.items()]
        engine = medians["minidl-torch"] - medians["array-calls"]
        lines.append(f"  minidl-torch - array-calls (the engine's own cost): {engine:.1f} us; "
                     f"minidl-torch / torch: {medians['minidl-torch'] / medians['torch']:.3f}")
        lines.append("")
    write_report(out, "torch_overhead.txt", "minidl's MLP step on torch tensors against its own array calls and "
                 "PyTorch eager; median of 7 interleaved rounds, process CPU time", machine, lines,
                 torch=f"{torch.__version__} (one thread)")


if __name__ == "__main__":
    main()
