"""The character-level GPT of examples/gpt.py: minidl against PyTorch, from the same weights and batches.

Three measurements, each optional:

- ``--step``: seconds per training step (forward, backward, clip, AdamW) of
  both, in interleaved rounds (a block of minidl steps, then a block of
  PyTorch steps, the order alternating), median per-round ratio; with
  ``--compiled``, minidl's step traced once by ``md.compile`` too (a CUDA
  graph on CuPy), timed in the same rounds;
- ``--curve N``: N training iterations of both from the same initial weights
  and the same batches, train/val losses every ``--eval-interval``;
- ``--decode``: minidl's prefill and KV-cache decode speed (tokens/s), for
  one request and for a batch of requests;
- ``--profile``: ``md.profile`` tables of minidl's training step and of one
  prefill and one decode forward (per op: device time from CUDA events on a
  GPU, host time beside it), to see where a step's time goes.

    python benchmarks/gpt_step.py --threads 1 --step --decode results/gpt          # the CPU config
    python benchmarks/gpt_step.py --threads 1 --curve 300 results/gpt-curve
    python benchmarks/gpt_step.py --device cuda --config gpu --step results/gpt-gpu  # nanoGPT shakespeare-char

Results: ``OUT/gpt_step.json`` and ``OUT/gpt_step.txt``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = {  # n_layer, n_head, n_embd, block_size, batch_size
    "cpu": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12),   # nanoGPT's CPU recipe
    "gpu": dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=64),  # nanoGPT shakespeare_char
    "tiny": dict(n_layer=2, n_head=2, n_embd=32, block_size=32, batch_size=8),
}
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def torch_gpt(config, torch):
    """The same model in PyTorch, with the same parameter names, so a minidl state_dict loads into it."""
    nn, F = torch.nn, torch.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(x).split(c, dim=2)
            q, k, v = (z.view(b, t, config.n_head, c // config.n_head).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(b, t, c))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc, self.c_proj = nn.Linear(config.n_embd, 4 * config.n_embd), nn.Linear(4 * config.n_embd,
                                                                                            config.n_embd)
            self.gelu = nn.GELU()

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(config.n_embd), Attention()
            self.ln_2, self.mlp = nn.LayerNorm(config.n_embd), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(config.vocab_size, config.n_embd), nn.Embedding(config.block_size,
                                                                                             config.n_embd)
            self.h = nn.ModuleList([Block() for _ in range(config.n_layer)])
            self.ln_f = nn.LayerNorm(config.n_embd)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return logits, F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    return GPT()


class Trainer:
    """One framework's model, optimizer and step, fed host batches (int64 arrays)."""

    def __init__(self, framework: str, config, state: dict, device: str, lr: float = 1e-3) -> None:
        self.framework = framework  # "minidl", "minidl-compiled" (the step through md.compile) or "torch"
        self.kind = "minidl" if framework.startswith("minidl") else "torch"
        if self.kind == "minidl":
            import minidl as md
            import minidl.optim as optim
            from gpt import GPT
            self.md = md
            backend = "cupy" if device == "cuda" else "numpy"
            md.set_backend(backend)
            self.model = GPT(config)
            self.model.load_state_dict(state)
            params = list(self.model.parameters())
            groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
                      {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
            self.optimizer = optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))
            self._run = md.compile(self._minidl_step) if framework == "minidl-compiled" else self._minidl_step
        else:
            import torch
            self.torch, self.device = torch, device
            self.model = torch_gpt(config, torch).to(device)
            self.model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
            params = list(self.model.parameters())
            groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
                      {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
            self.optimizer = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99), foreach=False)

    def _tensors(self, x, y):
        if self.kind == "minidl":
            return self.md.tensor(x), self.md.tensor(y)
        return self.torch.from_numpy(x).to(self.device), self.torch.from_numpy(y).to(self.device)

    def step(self, x, y, lr: float | None = None) -> None:
        if lr is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        x, y = self._tensors(x, y)
        if self.kind == "minidl":
            self._run(x, y)
            return
        _, loss = self.model(x, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()

    def _minidl_step(self, x, y):
        """minidl's step as one function of the batch, which md.compile can trace."""
        _, loss = self.model(x, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.md.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return loss

    def loss(self, x, y) -> float:
        x, y = self._tensors(x, y)
        if self.kind == "minidl":
            with self.md.no_grad():
                return self.model(x, y)[1].item()
        with self.torch.no_grad():
            return self.model(x, y)[1].item()

    def sync(self) -> None:
        if self.kind == "minidl" and self.md.get_backend() == "cupy":
            import cupy
            cupy.cuda.Device().synchronize()
        elif self.framework == "torch" and self.device == "cuda":
            self.torch.cuda.synchronize()


def batches(corpus, split: str, count: int, config, seed: int):
    import numpy
    rng = numpy.random.default_rng(seed)
    data = corpus.train if split == "train" else corpus.val
    out = []
    for _ in range(count):
        starts = rng.integers(0, len(data) - config.block_size, size=config.batch_size)
        tokens = data[starts[:, None] + numpy.arange(config.block_size + 1)[None, :]]
        out.append((numpy.ascontiguousarray(tokens[:, :-1]), numpy.ascontiguousarray(tokens[:, 1:])))
    return out


def measure_steps(trainers, data, rounds: int, block_seconds: float) -> dict:
    for t in trainers:  # warm up (and estimate a block's number of steps)
        for x, y in data[:3]:
            t.step(x, y)
        t.sync()
    started = time.perf_counter()
    trainers[0].step(*data[0])
    trainers[0].sync()
    count = max(3, round(block_seconds / (time.perf_counter() - started)))
    seconds = {clock: {t.framework: [] for t in trainers} for clock in ("wall", "cpu")}
    for index in range(rounds):
        order = trainers if index % 2 == 0 else trainers[::-1]
        for t in order:
            started, cpu_started = time.perf_counter(), time.process_time()
            for i in range(count):
                t.step(*data[i % len(data)])
            t.sync()
            seconds["wall"][t.framework].append((time.perf_counter() - started) / count)
            seconds["cpu"][t.framework].append((time.process_time() - cpu_started) / count)
    result = {"steps_per_block": count, "seconds": seconds}
    for t in trainers:  # how a compiled step replays: one CUDA graph, or op by op (and why)
        if t.framework == "minidl-compiled":
            result[f"{t.framework} replay"] = {"cuda_graph": t._run.uses_cuda_graph, "graph_note": t._run.graph_note}
    for clock, by_framework in seconds.items():  # CPU time: what a busy shared machine does not inflate
        ratios = [a / b for a, b in zip(by_framework["minidl"], by_framework.get("torch", []))]
        result[clock] = {"ratios": ratios, "median_ratio": statistics.median(ratios) if ratios else None,
                         "median_ms": {k: statistics.median(v) * 1e3 for k, v in by_framework.items()}}
        if "minidl-compiled" in by_framework:  # the compiled step against PyTorch eager, per round
            compiled = [a / b for a, b in zip(by_framework["minidl-compiled"], by_framework.get("torch", []))]
            result[clock].update(compiled_ratios=compiled,
                                 compiled_median_ratio=statistics.median(compiled) if compiled else None)
    return result


def learning_rate(step: int, total: int, warmup: int = 100, lr: float = 1e-3, min_lr: float = 1e-4) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def loss_curves(trainers, corpus, config, iterations: int, eval_interval: int, eval_iters: int) -> dict:
    train = batches(corpus, "train", iterations, config, seed=1)
    evaluation = {s: batches(corpus, s, eval_iters, config, seed=2) for s in ("train", "val")}
    curves = {t.framework: [] for t in trainers}
    seconds = {}
    for t in trainers:
        started = time.perf_counter()
        for step in range(iterations + 1):
            if step % eval_interval == 0 or step == iterations:
                losses = {s: statistics.fmean(t.loss(x, y) for x, y in evaluation[s]) for s in evaluation}
                curves[t.framework].append({"step": step, **losses})
            if step < iterations:
                t.step(*train[step], lr=learning_rate(step, iterations))
        seconds[t.framework] = time.perf_counter() - started
    gaps = [abs(a["val"] - b["val"]) / b["val"] for a, b in zip(curves["minidl"], curves["torch"])]
    return {"iterations": iterations, "curves": curves, "seconds": seconds, "max_relative_val_gap": max(gaps)}


def decode_speed(trainer, config, requests: tuple[int, ...] = (1, 12)) -> dict:
    """Prefill (the whole prompt in one forward) and decode (one token at a time against the KV cache)."""
    import numpy
    from gpt import KVCache
    md, model = trainer.md, trainer.model
    model.eval()
    result = {}
    prompt_length = config.block_size // 2
    with md.no_grad():
        for batch in requests:
            prompt = md.tensor(numpy.ones((batch, prompt_length), dtype=numpy.int64))
            timings = {"prefill": [], "decode": []}
            for _ in range(3):
                cache = KVCache(config.n_layer)
                started = time.perf_counter()
                logits, _ = model(prompt, cache=cache)
                trainer.sync()
                timings["prefill"].append(batch * prompt_length / (time.perf_counter() - started))
                token = md.tensor(numpy.ones((batch, 1), dtype=numpy.int64))
                started = time.perf_counter()
                for _ in range(config.block_size - prompt_length):
                    logits, _ = model(token, cache=cache)
                trainer.sync()
                timings["decode"].append(batch * (config.block_size - prompt_length) / (time.perf_counter() - started))
            result[batch] = {k: max(v) for k, v in timings.items()}  # best of 3, tokens/s
    model.train()
    return {"prompt_tokens": prompt_length, "decoded_tokens": config.block_size - prompt_length,
            "tokens_per_second": result}


def profiles(trainer, data, config, steps: int = 3) -> dict:
    """``md.profile`` tables: ``steps`` training steps (after three to warm up), then one prefill of half a
    block and one decode forward of a single token against that cache, for one request."""
    import numpy
    from gpt import KVCache
    md, model = trainer.md, trainer.model
    for x, y in data[:3]:
        trainer.step(x, y)
    trainer.sync()
    tables = {}
    with md.profile() as prof:
        for x, y in data[:steps]:
            trainer.step(x, y)
    tables[f"training step x{steps}"] = prof.table()
    model.eval()
    with md.no_grad():
        for _ in range(2):  # the second pass is the one profiled: the first warms the kernels of these shapes
            cache = KVCache(config.n_layer)
            prompt = md.tensor(numpy.ones((1, config.block_size // 2), dtype=numpy.int64))
            token = md.tensor(numpy.ones((1, 1), dtype=numpy.int64))
            with md.profile() as prefill:
                model(prompt, cache=cache)
            with md.profile() as decode:
                model(token, cache=cache)
    model.train()
    tables[f"prefill forward, 1 request, {config.block_size // 2} tokens"] = prefill.table()
    tables["decode forward, 1 request, 1 token"] = decode.table()
    return tables


def report(results: dict) -> str:
    from mlp_step import _cpu_model
    env = results["environment"]
    config = results["config"]
    lines = [f"GPT {config}: {_cpu_model()}, {env['cpus']} CPUs, Python {env['python']}, NumPy {env['numpy']}, "
             f"torch {env['torch']} ({env['torch_threads']} threads), BLAS env {env['blas_env'] or 'none set'}, "
             f"malloc env {env.get('malloc_env') or 'none set'}, "
             f"load average before {env['load_average_before']}, after {env.get('load_average_after')}"]
    if "step" in results:
        s = results["step"]
        lines += ["", f"training step (median of {len(s['wall']['ratios'])} interleaved rounds of "
                  f"{s['steps_per_block']} steps)"]
        for clock in ("wall", "cpu"):
            c = s[clock]
            if c["median_ratio"] is None:
                lines.append(f"  {clock:4s} clock: minidl {c['median_ms']['minidl']:.2f} ms (PyTorch not installed)")
                continue
            lines.append(f"  {clock:4s} clock: minidl {c['median_ms']['minidl']:.2f} ms, PyTorch "
                         f"{c['median_ms']['torch']:.2f} ms, minidl / PyTorch = {c['median_ratio']:.3f} (rounds: "
                         + ", ".join(f"{r:.2f}" for r in c["ratios"]) + ")")
            if c.get("compiled_median_ratio") is not None:
                lines.append(f"  {clock:4s} clock: minidl compiled {c['median_ms']['minidl-compiled']:.2f} ms, "
                             f"compiled / PyTorch eager = {c['compiled_median_ratio']:.3f} (rounds: "
                             + ", ".join(f"{r:.2f}" for r in c["compiled_ratios"]) + ")")
        replay = s.get("minidl-compiled replay")
        if replay is not None:
            lines.append("  the compiled step replays as " + ("one CUDA graph" if replay["cuda_graph"] else
                                                                f"a program, op by op ({replay['graph_note']})"))
    if "curve" in results:
        c = results["curve"]
        lines += ["", f"loss curves, {c['iterations']} iterations from the same weights and batches "
                  f"(minidl {c['seconds']['minidl']:.0f} s, PyTorch {c['seconds']['torch']:.0f} s)",
                  "  step   minidl train/val    PyTorch train/val   val gap"]
        for a, b in zip(c["curves"]["minidl"], c["curves"]["torch"]):
            lines.append(f"  {a['step']:5d}  {a['train']:.4f} / {a['val']:.4f}   {b['train']:.4f} / {b['val']:.4f}"
                         f"   {100 * abs(a['val'] - b['val']) / b['val']:.2f}%")
        lines.append(f"  largest relative val gap: {100 * c['max_relative_val_gap']:.2f}%")
    if "decode" in results:
        d = results["decode"]
        lines += ["", f"minidl generation, prompt {d['prompt_tokens']} tokens then {d['decoded_tokens']} decoded "
                  f"with the KV cache (best of 3)"]
        for batch, speeds in d["tokens_per_second"].items():
            lines.append(f"  {batch:3d} request(s): prefill {speeds['prefill']:9.0f} tokens/s, "
                         f"decode {speeds['decode']:9.0f} tokens/s")
    for title, table in results.get("profile", {}).items():
        lines += ["", f"md.profile, minidl {title}", table]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="results/gpt")
    parser.add_argument("--config", choices=CONFIGS, default="cpu")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP and torch threads (1 on a shared machine)")
    parser.add_argument("--step", action="store_true", help="time training steps")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--block-seconds", type=float, default=2.0)
    parser.add_argument("--curve", type=int, default=0, metavar="N", help="train N iterations of both")
    parser.add_argument("--eval-interval", type=int, default=100)
    parser.add_argument("--eval-iters", type=int, default=20)
    parser.add_argument("--compiled", action="store_true", help="with --step: minidl's step through md.compile too")
    parser.add_argument("--decode", action="store_true", help="minidl's prefill and decode tokens/s")
    parser.add_argument("--profile", action="store_true", help="md.profile tables of minidl's step and forwards")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    if args.threads:
        for variable in THREAD_VARIABLES:
            os.environ[variable] = str(args.threads)
    sys.path[:0] = [str(HERE), str(HERE.parent / "examples"), str(HERE.parent)]
    try:
        import torch
    except ImportError:  # the offline GPU machine may lack it: time minidl alone
        torch = None
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    frameworks = ["minidl", "torch"] if torch is not None else ["minidl"]
    import minidl as md
    from gpt import GPT, GPTConfig
    from mlp_step import environment

    corpus = md.data.tinyshakespeare()
    config = GPTConfig(vocab_size=corpus.vocab_size, **{k: v for k, v in CONFIGS[args.config].items()
                                                        if k != "batch_size"})
    config.batch_size = CONFIGS[args.config]["batch_size"]
    md.manual_seed(args.seed)
    state = {k: v.numpy() for k, v in GPT(config).state_dict().items()}
    results = {"environment": environment(args.device), "config": {**config.as_dict(),
                                                                   "batch_size": config.batch_size}}
    results["environment"].update(torch=torch.__version__ if torch else None,
                                  torch_threads=torch.get_num_threads() if torch else None)
    if args.step:
        stepped = frameworks[:1] + ["minidl-compiled"] * args.compiled + frameworks[1:]
        trainers = [Trainer(name, config, state, args.device) for name in stepped]
        results["step"] = measure_steps(trainers, batches(corpus, "train", 20, config, seed=0), args.rounds,
                                        args.block_seconds)
    if args.curve:
        if torch is None:
            raise SystemExit("--curve compares with PyTorch: install torch")
        trainers = [Trainer(name, config, state, args.device) for name in frameworks]
        results["curve"] = loss_curves(trainers, corpus, config, args.curve, args.eval_interval, args.eval_iters)
    if args.decode:
        results["decode"] = decode_speed(Trainer("minidl", config, state, args.device), config)
    if args.profile:
        results["profile"] = profiles(Trainer("minidl", config, state, args.device),
                                      batches(corpus, "train", 6, config, seed=0), config)
    results["environment"]["load_average_after"] = os.getloadavg()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpt_step.json").write_text(json.dumps(results, indent=1, default=str))
    text = report(results)
    (out / "gpt_step.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
