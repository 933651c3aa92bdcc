"""Diagrams for the chapters, drawn with matplotlib from code (no hand-made pictures).

    python docs/scripts/chapter_figures.py              # writes every figure into docs/figures/
    python docs/scripts/chapter_figures.py OUT_DIR      # somewhere else (the test does this)

- ``autograd-walk.svg``  (from-scratch chapter): the graph of ``tanh(a*b + 1)``, nodes numbered in
  the topological order of the backward walk, each edge labelled with the gradient it carries.
- ``im2col.svg``         (chapter 6): the patches of a 4x4 image under a 3x3 kernel become the rows
  of a matrix; the numbers are computed by ``minidl.ops.im2col``.
- ``gemm-tiling.svg``    (chapter 8): how rung 5 (``minidl/kernels/cuda_blocktile.py``) splits C:
  one 128x128 tile per block, 16 rows per warp, an 8x8 square per thread; the sizes are read
  from that module.

The roofline is drawn from the stored measurements by ``docs/scripts/roofline.py``.

SVGs are written with a fixed hash salt and no date, so a rerun on the same matplotlib gives the
same file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
plt.rcParams.update({"svg.hashsalt": "minidl", "font.size": 10, "svg.fonttype": "path"})

PALETTE = ["#3f51b5", "#ff7043", "#43a047", "#8e24aa", "#00897b", "#f9a825", "#6d4c41", "#546e7a", "#d81b60"]


def _save(fig, path: Path) -> None:
    fig.savefig(path, format=path.suffix[1:], bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


# --- the autograd walk -------------------------------------------------------------------------

def autograd_walk(path: Path) -> None:
    """y = tanh(a*b + 1) at a = 0.5, b = -1.5: forward values, then the backward walk in order."""
    import math

    a, b = 0.5, -1.5
    u = a * b
    s = u + 1.0
    y = math.tanh(s)
    dy_ds = 1.0 - y * y
    # name: (x, y, label, topological position in the backward walk or None for constants)
    nodes = {
        "y": (9.0, 1.5, f"tanh\ny = {y:.3f}", 1),
        "s": (6.4, 1.5, f"+\ns = {s:.2f}", 2),
        "one": (3.8, 0.2, "1.0", 3),
        "u": (3.8, 2.8, f"*\nu = {u:.2f}", 4),
        "b": (0.8, 1.6, f"b = {b}", 5),
        "a": (0.8, 4.0, f"a = {a}", 6),
    }
    edges = [  # (from child, to parent, gradient carried to the parent)
        ("y", "s", f"dy/ds = 1-y² = {dy_ds:.3f}"),
        ("s", "u", f"dy/du = {dy_ds:.3f}"),
        ("s", "one", "(constant)"),
        ("u", "a", f"dy/da = b·dy/du = {b * dy_ds:.3f}"),
        ("u", "b", f"dy/db = a·dy/du = {a * dy_ds:.3f}"),
    ]
    fig, ax = plt.subplots(figsize=(10, 4.6))
    for child, parent, label in edges:
        (x0, y0, *_), (x1, y1, *_) = nodes[child], nodes[parent]
        ax.add_patch(FancyArrowPatch((x0 - 0.45, y0), (x1 + 0.55, y1), arrowstyle="-|>", mutation_scale=14,
                                     color=PALETTE[1], lw=1.6))
        ax.text((x0 + x1) / 2 + 0.05, (y0 + y1) / 2 + 0.05, label, ha="center", va="center", fontsize=8,
                color=PALETTE[1], bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none"))
    for name, (x, yy, label, order) in nodes.items():
        leaf = name in ("a", "b", "one")
        ax.text(x, yy, label, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.4", fc="#e8eaf6" if leaf else "#fff3e0",
                          ec=PALETTE[0] if leaf else PALETTE[1]))
        ax.text(x + 0.5, yy + 0.35, str(order), ha="center", va="center", fontsize=8, color="white",
                bbox=dict(boxstyle="circle,pad=0.2", fc=PALETTE[0], ec="none"))
    ax.text(5.0, -0.7, "forward: left to right.  backward: right to left, in the numbered (topological) order;\n"
            "each node passes its complete gradient on only after every node that uses it has",
            ha="center", fontsize=8.5)
    ax.set_xlim(0.0, 9.8)
    ax.set_ylim(-1.1, 4.5)
    ax.axis("off")
    _save(fig, path)


# --- im2col ------------------------------------------------------------------------------------

def im2col_figure(path: Path) -> None:
    """A 1-channel 4x4 image, a 3x3 kernel: 4 patches become the 4 rows of a 4x9 matrix."""
    sys.path.insert(0, str(ROOT))
    import minidl as md
    from minidl.ops.conv import im2col

    image = md.arange(16, dtype=md.float32).reshape(1, 1, 4, 4)
    rows = im2col(image, kernel_size=3).numpy().astype(int)          # (4, 9), computed by minidl
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 2.2]})
    for r in range(4):
        for c in range(4):
            left.add_patch(Rectangle((c, 3 - r), 1, 1, fc="white", ec="#9e9e9e"))
            left.text(c + 0.5, 3.5 - r, str(4 * r + c), ha="center", va="center")
    for p, (pr, pc) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        inset = 0.06 * (p + 1)
        left.add_patch(Rectangle((pc + inset, 1 - pr + inset), 3 - 2 * inset, 3 - 2 * inset, fill=False,
                                 ec=PALETTE[p], lw=2))
    left.set_title("image 4x4, kernel 3x3:\n4 windows (output 2x2)", fontsize=9)
    for p in range(4):
        for k in range(9):
            right.add_patch(Rectangle((k, 3 - p), 1, 1, fc=PALETTE[p], alpha=0.15, ec="#9e9e9e"))
            right.text(k + 0.5, 3.5 - p, str(rows[p, k]), ha="center", va="center")
        right.text(-0.3, 3.5 - p, f"window {p}", ha="right", va="center", color=PALETTE[p], fontsize=9)
    right.set_title("im2col: one row per output pixel, one column per kernel weight (4 x 9)\n"
                    "then all filters at all places = ONE GEMM: rows @ weight.reshape(out, 9).T", fontsize=9)
    for ax, width in ((left, 4), (right, 9)):
        ax.set_xlim(-0.1 if ax is left else -2.2, width + 0.1)
        ax.set_ylim(-0.1, 4.1)
        ax.set_aspect("equal")
        ax.axis("off")
    _save(fig, path)


# --- GEMM tiling -------------------------------------------------------------------------------

def gemm_tiling(path: Path) -> None:
    """Rung 5's split of C: grid of block tiles -> one block tile in warps -> one thread's square."""
    text = (ROOT / "minidl" / "kernels" / "cuda_blocktile.py").read_text()
    BM, BN, BK, TM, TN = map(int, re.search(r"^BM, BN, BK, TM, TN = (.*)$", text, re.M).group(1).split(","))
    threads = (BM * BN) // (TM * TN)
    per_row = BN // TN                       # threads across a row of the tile
    warp_rows = 32 // per_row * TM           # rows of C one warp of 32 threads covers
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.9))
    n = 4 * BM                               # a 512 x 512 C: 4 x 4 blocks
    ax = axes[0]
    for i in range(n // BM):
        for j in range(n // BN):
            ax.add_patch(Rectangle((j * BN, n - (i + 1) * BM), BN, BM, fc=PALETTE[0] if (i, j) == (1, 2) else "white",
                                   alpha=0.5 if (i, j) == (1, 2) else 1, ec="#616161"))
    ax.set_title(f"C ({n} x {n}): one {BM} x {BN} tile per block\n(grid of {n // BM} x {n // BN} blocks)",
                 fontsize=9)
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax = axes[1]
    for w in range(BM // warp_rows):
        ax.add_patch(Rectangle((0, BM - (w + 1) * warp_rows), BN, warp_rows, fc=PALETTE[2 + w % 2],
                               alpha=0.35 if w != 3 else 0.8, ec="#616161"))
        ax.text(BN / 2, BM - (w + 0.5) * warp_rows, f"warp {w}", ha="center", va="center", fontsize=8)
    ax.set_title(f"one block tile: {threads} threads = {threads // 32} warps,\n"
                 f"each warp {warp_rows} rows x {BN} columns", fontsize=9)
    ax.set_xlim(0, BN)
    ax.set_ylim(0, BM)
    ax = axes[2]
    for r in range(warp_rows // TM):
        for c in range(per_row):
            tid = 3 * 32 + r * per_row + c
            ax.add_patch(Rectangle((c * TN, warp_rows - (r + 1) * TM), TN, TM, fc=PALETTE[1] if c == 5 and r == 1
                                   else "white", alpha=0.7 if c == 5 and r == 1 else 1, ec="#616161"))
            ax.text((c + 0.5) * TN, warp_rows - (r + 0.5) * TM, str(tid), ha="center", va="center", fontsize=6)
    ax.set_title(f"warp 3 ({warp_rows} x {BN}, stretched): 32 threads (ids shown),\neach owns a {TM} x {TN} square of C\n"
                 f"({TM * TN} accumulators in registers; K advances {BK} at a time)", fontsize=9)
    ax.set_xlim(0, BN)
    ax.set_ylim(0, warp_rows)
    ax.set_aspect(BN / warp_rows / 1.6)                          # drawn 1.6 times wider than tall, to be legible
    for ax in axes[:2]:
        ax.set_aspect("equal")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    _save(fig, path)


# --- the roofline ------------------------------------------------------------------------------


FIGURES = {
    "autograd-walk.svg": autograd_walk,
    "im2col.svg": im2col_figure,
    "gemm-tiling.svg": gemm_tiling,
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, draw in FIGURES.items():
        draw(out / name)
        print("wrote", out / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS / "figures")
