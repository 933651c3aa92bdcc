"""Figure: the roofline of each measured machine, with the GEMM ladder, GEMV and the MLP's layers on it.

    python docs/scripts/roofline.py     # reads docs/measurements/, writes docs/figures/roofline.png and .json

A roofline bounds what a kernel can reach: at arithmetic intensity I (FLOPs
per byte moved to or from memory) it runs at most at ``min(peak FLOP/s,
bandwidth * I)``. Every ceiling drawn here was measured, none is a data-sheet
figure:

- CPU: the newest ``docs/measurements/cpu-*/roofline.json`` (written by
  ``benchmarks/roofline.py cpu``): BLAS GEMM per precision, and the triad's
  bandwidth; the CPU ladder from ``gemm_cpu.json`` in the same folder
  (``benchmarks/gemm_ladder.py cpu``), so points and ceilings come from one machine;
- H100: ``docs/measurements/h100-2026-11-26/gemm_cuda.txt`` (cuBLAS SGEMM with
  TF32 off, the CUDA ladder, GEMV and a copy kernel);
- each stored GPU ``roofline.json`` (``benchmarks/roofline.py cuda``) adds a
  panel of its own: cuBLAS at FP32, TF32 and FP16, the copy kernel, and the
  MLP's layers in each precision.

A GEMM of n x n matrices is placed at I = 2n^3 / (bytes of A, B and C once),
n/6 in float32: the intensity of a kernel that moves each matrix once; a
kernel that reloads tiles moves more, so its own intensity is lower and the
point is an upper bound on where it sits. GEMV (one row times an n x n
matrix) is at about 0.5 FLOP/byte in float32, whatever n.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEASUREMENTS = ROOT / "docs" / "measurements"
FIGURES = ROOT / "docs" / "figures"
H100 = MEASUREMENTS / "h100-2026-11-26" / "gemm_cuda.txt"


def gemm_intensity(n: int, itemsize: int = 4) -> float:
    return 2 * n**3 / (3 * itemsize * n * n)


def cpu_roofline() -> dict:
    """Ceilings and points of the newest CPU measurement (one folder: one machine)."""
    path = sorted(MEASUREMENTS.glob("cpu-*/roofline.json"))[-1]
    data = json.loads(path.read_text())
    by_threads = {run["threads"]: run for run in data["runs"]}
    most = by_threads[max(by_threads)]
    peak = {}
    for threads, run in sorted(by_threads.items()):
        for dtype in ("float64", "float32", "float16"):
            best = max(row["gflops"] for row in run["gemm"] if row["dtype"] == dtype)
            if dtype != "float16" or threads == max(by_threads):
                peak[f"{dtype} GEMM, {threads} thread{'s' * (threads > 1)}"] = best
    triad = max(row["gbs"] for row in most["bandwidth"] if row["kernel"].startswith("triad"))
    points = [{"label": row["op"], "intensity": row["intensity"], "gflops": row["gflops"], "kind": "layer"}
              for row in most.get("layers", [])]
    ladder_path = path.parent / "gemm_cpu.json"
    if ladder_path.exists():
        for row in json.loads(ladder_path.read_text())["results"]:
            points.append({"label": f"{row['kernel']} (n={row['n']})", "intensity": round(gemm_intensity(row["n"]), 1),
                           "gflops": row["gflops"], "kind": "ladder"})
    return {"title": f"CPU: {data['machine']['cpu']}, {data['machine']['cores']} cores ({data['measured']})",
            "source": str(path.relative_to(ROOT)), "machine_line": data["machine_line"], "peaks_gflops": peak,
            "bandwidth_gbs": {"triad (all threads)": triad}, "points": points}


def h100_roofline() -> dict:
    """Ceilings and points from the H100 run's GEMM ladder file, and a GPU roofline.json if one is stored."""
    text = H100.read_text()
    sizes = [int(n) for n in re.findall(r"n = (\d+)", text.split("\n\n")[1].splitlines()[0])]
    gemm = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == len(sizes) + 1 and cells[1][:1].isdigit():
            gemm[cells[0]] = [float(cell.split()[0]) for cell in cells[1:]]
    gemv = [(name, int(n), float(gbs)) for name, n, gbs in
            re.findall(r"^\| (gemv|cuBLAS GEMV|copy \(read\+write\)) \| (\d+) \| (\d+) \|$", text, re.M)]
    blas = next(name for name in gemm if name.startswith("cuBLAS"))
    peak = {"FP32 cuBLAS SGEMM (TF32 off)": max(gemm[blas])}
    bandwidth = {"copy kernel": max(gbs for name, _, gbs in gemv if name.startswith("copy"))}
    largest = sizes.index(max(sizes))
    points = [{"label": f"{name} (n={sizes[largest]})", "intensity": round(gemm_intensity(sizes[largest]), 1),
               "gflops": values[largest], "kind": "ladder"} for name, values in gemm.items() if name != blas]
    widest = max(n for _, n, _ in gemv)
    points += [{"label": f"{name} (n={n})", "intensity": 0.5, "gflops": round(gbs * 0.5, 1), "kind": "gemv"}
               for name, n, gbs in gemv if n == widest and not name.startswith("copy")]
    return {"title": "GPU: NVIDIA H100 80GB HBM3 (2026-11-26)", "source": str(H100.relative_to(ROOT)),
            "machine_line": " ".join(H100.parent.joinpath("README.txt").read_text().split("\n\n")[0].split()),
            "peaks_gflops": peak, "bandwidth_gbs": bandwidth, "points": points}


def gpu_roofline(path: Path) -> dict:
    """A panel from a GPU run of ``benchmarks/roofline.py cuda``: cuBLAS per precision, the copy kernel, the layers."""
    data = json.loads(path.read_text())
    run = data["runs"][0]
    peak = {f"{label} cuBLAS": max(row["gflops"] for row in run["gemm"] if row["precision"] == label)
            for label in dict.fromkeys(row["precision"] for row in run["gemm"])}
    copy = max(row["gbs"] for row in run["bandwidth"] if row["kernel"] == "copy")
    points = [{"label": row["op"], "intensity": row["intensity"], "gflops": row["gflops"], "kind": "layer"}
              for row in run["layers"] if "batch 512" in row["op"] or "batch 1," in row["op"]]
    ladder = path.parent / "gemm_cuda.json"   # benchmarks/gemm_ladder.py cuda, from the same run
    if ladder.exists():
        rows = json.loads(ladder.read_text())["results"]
        largest = max(row["n"] for row in rows if row["kind"] == "gemm")
        points += [{"label": f"{row['kernel']} (n={largest})", "intensity": round(gemm_intensity(largest), 1),
                    "gflops": row["gflops"], "kind": "ladder"}
                   for row in rows if row["kind"] == "gemm" and row["n"] == largest]
    return {"title": f"GPU: {data['machine']['gpu']} ({data['measured']})", "source": str(path.relative_to(ROOT)),
            "machine_line": data["machine_line"], "peaks_gflops": peak, "bandwidth_gbs": {"copy kernel": copy},
            "points": points}


def gpu_panels() -> list[dict]:
    """One panel per stored GPU run of ``benchmarks/roofline.py cuda`` (none yet: no GPU since it was written)."""
    paths = [p for p in sorted(MEASUREMENTS.glob("*/roofline.json")) if json.loads(p.read_text())["device"] == "cuda"]
    return [gpu_roofline(path) for path in paths]


def draw(panels: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 6.4))
    markers = {"ladder": "o", "gemv": "s", "layer": "^"}
    for ax, panel in zip(np.atleast_1d(axes), panels):
        intensity = np.logspace(-1.3, 3.3, 200)
        (bandwidth_label, bandwidth), = panel["bandwidth_gbs"].items()
        ceilings = []
        for (label, peak), style in zip(sorted(panel["peaks_gflops"].items(), key=lambda item: -item[1]),
                                        ("-", "--", "-.", ":", (0, (1, 3)), (0, (5, 5)))):
            value = f"{peak:,.0f}" if peak >= 100 else f"{peak:.2g}"
            ceilings += ax.plot(intensity, np.minimum(peak, bandwidth * intensity), linestyle=style, color="black",
                                lw=1.1, label=f"{label}: {value} GFLOP/s")
        ceilings += ax.plot([], [], " ", label=f"slope: {bandwidth_label}, {bandwidth:,.0f} GB/s")
        colors = plt.get_cmap("tab20")(np.linspace(0, 1, 20))
        marks = [ax.scatter(point["intensity"], point["gflops"], marker=markers[point["kind"]], s=24, zorder=3,
                            color=colors[index % 20], label=point["label"])
                 for index, point in enumerate(panel["points"])]
        ax.set_xscale("log"), ax.set_yscale("log")
        ax.set_xlabel("arithmetic intensity (FLOP per byte)"), ax.set_ylabel("GFLOP/s")
        ax.set_title(panel["title"], fontsize=9)
        ax.add_artist(ax.legend(handles=ceilings, fontsize=6, loc="upper left", title="measured ceilings",
                                title_fontsize=6))
        ax.legend(handles=marks, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2,
                  title="measured kernels", title_fontsize=6)
        ax.set_ylim(ax.get_ylim()[0] / 2, ax.get_ylim()[1] * 20)  # room for the ceilings' legend above the roof
        ax.grid(True, which="both", alpha=0.2)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main() -> None:
    panels = [cpu_roofline(), h100_roofline()] + gpu_panels()
    (FIGURES / "roofline.json").write_text(json.dumps(panels, indent=1) + "\n")
    draw(panels, FIGURES / "roofline.png")
    print(f"wrote {FIGURES / 'roofline.png'} and roofline.json from " + "; ".join(p["source"] for p in panels))


if __name__ == "__main__":
    main()
