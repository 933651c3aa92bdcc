"""Train a character-level GPT on tiny Shakespeare, then generate text with a KV cache.

    python examples/train_gpt.py --quick             # a tiny model, under a minute on a laptop CPU
    python examples/train_gpt.py                     # nanoGPT's CPU recipe: 4 layers, 4 heads, 128 channels,
                                                     # block 64, batch 12, 2000 iterations
    python examples/train_gpt.py --backend cupy --n-layer 6 --n-head 6 --n-embd 384 --block-size 256 --batch-size 64

The model (examples/gpt.py) follows nanoGPT: AdamW with weight decay on the
matrices only, a linear warm-up then a cosine decay of the learning rate,
gradient clipping at norm 1, and a train/val loss estimate every
``--eval-interval`` iterations. Nearly every FLOP of a step is a GEMM: see
docs/attention.md.

On Linux, a step at this size took 13-23% less CPU time in the stored runs when glibc keeps freed memory
instead of returning it to the system between steps (docs/performance.md, "The allocator"):

    MALLOC_TRIM_THRESHOLD_=536870912 MALLOC_MMAP_THRESHOLD_=536870912 python examples/train_gpt.py
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Sequence

import numpy

import minidl as md
import minidl.nn as nn
import minidl.optim as optim

from _common import add_compile_flag, progress_bar, training_step
from gpt import GPT, GPTConfig, generate

QUICK = dict(n_layer=2, n_head=2, n_embd=32, block_size=32, batch_size=8, max_iters=250, eval_interval=125,
             eval_iters=4, warmup_iters=10, new_tokens=100)


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="numpy", help="numpy, cupy or array_api_strict (default: numpy)")
    p.add_argument("--seed", type=int, default=1337, help="seed for weights, batches and sampling (default: 1337)")
    p.add_argument("--quick", action="store_true", help="a tiny model for a few iterations (CI)")
    p.add_argument("--quiet", action="store_true", help="print only the final losses and the sample")
    for name, default in (("n-layer", 4), ("n-head", 4), ("n-embd", 128), ("block-size", 64), ("batch-size", 12),
                          ("max-iters", 2000), ("eval-interval", 250), ("eval-iters", 20), ("warmup-iters", 100),
                          ("new-tokens", 300), ("top-k", 40)):
        p.add_argument(f"--{name}", type=int, default=default, help=f"default: {default}")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default: 1e-3)")
    p.add_argument("--min-lr", type=float, default=1e-4, help="learning rate at the end of the cosine (1e-4)")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--untied", action="store_true", help="a separate output matrix, not the token embedding's")
    p.add_argument("--checkpoint", default="gpt_char.npz", help="where to save the weights (default: gpt_char.npz)")
    add_compile_flag(p)
    args = p.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    return args


def learning_rate(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up to ``lr``, then half a cosine down to ``min_lr`` at ``max_iters``."""
    if step < args.warmup_iters:
        return args.lr * (step + 1) / args.warmup_iters
    progress = min(1.0, (step - args.warmup_iters) / max(1, args.max_iters - args.warmup_iters))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1.0 + math.cos(math.pi * progress))


def make_optimizer(model: nn.Module, args: argparse.Namespace) -> optim.AdamW:
    """AdamW; weight decay on the matrices (GEMM weights, embeddings), not on biases and LayerNorm scales."""
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    groups = [{"params": matrices, "weight_decay": 0.1}, {"params": vectors, "weight_decay": 0.0}]
    return optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99))


def estimate_loss(model: GPT, corpus, args, rng: numpy.random.Generator) -> dict[str, float]:
    """Mean loss over ``eval_iters`` random batches of each split, in evaluation mode."""
    model.eval()
    losses = {}
    with md.no_grad():
        for split in ("train", "val"):
            total = 0.0
            for _ in range(args.eval_iters):
                x, y = corpus.batch(split, args.batch_size, args.block_size, rng)
                total += model(x, y)[1].item()
            losses[split] = total / args.eval_iters
    model.train()
    return losses


def train(model: GPT, corpus, args) -> list[dict[str, float]]:
    optimizer = make_optimizer(model, args)
    # The learning rate set below each iteration is an input of a compiled step's replay: no retrace.
    step_once = training_step(model, optimizer, args.compile, loss_of=lambda net, x, y: net(x, y)[1], clip=1.0)
    batches, evaluation = numpy.random.default_rng(args.seed), numpy.random.default_rng(args.seed + 1)
    history = []
    progress = None
    for step in range(args.max_iters + 1):
        if step % args.eval_interval == 0 or step == args.max_iters:
            if progress is not None:
                progress.close()
            losses = estimate_loss(model, corpus, args, evaluation)
            history.append({"step": step, **losses})
            if not args.quiet:
                print(f"step {step:5d}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            if step == args.max_iters:
                break
            count = min(args.eval_interval, args.max_iters - step)
            progress = None if args.quiet else progress_bar(count, f"steps {step + 1}-{step + count}")
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        x, y = corpus.batch("train", args.batch_size, args.block_size, batches)
        step_once(x, y)
        if progress is not None:
            progress.update()
    return history


def main(argv: Sequence[str] | None = None) -> dict:
    """Train, save, generate; returns the loss history, the sample and the generation speeds."""
    args = arguments(argv)
    with md.using_backend(args.backend):
        md.manual_seed(args.seed)
        corpus = md.data.tinyshakespeare()
        config = GPTConfig(vocab_size=corpus.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                           n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout,
                           tie_weights=not args.untied)
        model = GPT(config)
        if not args.quiet:
            print(f"GPT with {sum(p.size for p in model.parameters()):,} parameters on {args.backend}; "
                  f"{args.max_iters} iterations of batch {args.batch_size} x {args.block_size} characters")
        start = time.perf_counter()
        history = train(model, corpus, args)
        seconds = time.perf_counter() - start
        md.save({"model": model.state_dict(), "config": config.as_dict(), "step": args.max_iters},
                args.checkpoint)
        prompt = numpy.array([corpus.encode("\n")])
        speeds = {}
        for use_cache in (True, False):
            start = time.perf_counter()
            tokens = generate(model, prompt, args.new_tokens, args.temperature, args.top_k, args.seed, use_cache)
            speeds["with cache" if use_cache else "without cache"] = args.new_tokens / (time.perf_counter() - start)
            if use_cache:
                sample = corpus.decode(tokens[0])
    final = history[-1]
    print(f"after {args.max_iters} iterations ({seconds:.1f} s): train loss {final['train']:.4f}, "
          f"val loss {final['val']:.4f}; checkpoint saved to {args.checkpoint}")
    print("generation: " + ", ".join(f"{name} {rate:.0f} tokens/s" for name, rate in speeds.items())
          + " (measured live)")
    print(sample)
    return {"history": history, "sample": sample, "tokens_per_second": speeds}


if __name__ == "__main__":
    main(sys.argv[1:])
