#!/usr/bin/env bash
# The one prepared GPU check (see ../shared/design/gpu.md): GPU tests + GPU benchmarks, in a few minutes.
#
#   benchmarks/gpu_check.sh OUT_DIR
#
# Run it from the project root of a machine with an NVIDIA GPU, CuPy, numba and numba-cuda.
# That machine is offline: first, on a machine with internet, fetch the pure-Python wheels it lacks
# into .whl/ of the project (git-ignored, so copy it along):
#   bash ../shared/tools/gpu-wheels.sh pytest pluggy iniconfig packaging pygments hypothesis sortedcontainers
#
# Everything lands in OUT_DIR: one log per step, summary.txt (exit code and seconds of each step),
# the environment (nvidia-smi, versions), pytest's JUnit XML and the benchmark files.
# To add a benchmark, add one `step` line at the end (name, time limit in seconds, command).
#
# Keep the raw output under docs/measurements/<gpu>-<date>/ with a README.txt whose first paragraph is the machine
# line; put roofline.json and gemm/gemm_cuda.json side by side there, and `python docs/scripts/roofline.py` adds
# the GPU's panel (ceilings per precision, its ladder and the MLP's layers) to docs/figures/roofline.png.
#
# GPU_CHECK_ONLY=name,name,... runs only those steps. Issue 16's measurements alone (about five minutes):
#   GPU_CHECK_ONLY=gemm-ladder,roofline,mlp-precision,amp-accuracy,pytest-gpu-precision bash benchmarks/gpu_check.sh OUT
# Issue 15's profiler check alone (about two minutes):
#   GPU_CHECK_ONLY=profiler-overhead,pytest-gpu-core bash benchmarks/gpu_check.sh OUT
# Issue 15's compiled state (Adam and BatchNorm as graph inputs and outputs) alone (about five minutes), then the
# GPT's compiled step against PyTorch eager and the profiler (about three):
#   GPU_CHECK_ONLY=mlp-adam-small,mlp-adam-large,pytest-gpu-compile-state bash benchmarks/gpu_check.sh OUT/a
#   GPU_CHECK_ONLY=gpt-step,profiler-overhead bash benchmarks/gpu_check.sh OUT/b
# Issue 18's GPU steps alone (every library's GPU, minidl on torch CUDA tensors; about four minutes):
#   GPU_CHECK_ONLY=backends-cuda,mlp-torch-cuda bash benchmarks/gpu_check.sh OUT/c
# What the fourth and fifth sessions (2026-12-04) left unmeasured: the host-side split and the device fix (compile
# state and the Adam step), the library erf in GELU (gelu-erf and the GPT step), issue 18's torch CUDA, now with
# ReLU's float-arithmetic mask and (sixth session) md.compile's replay on torch tensors (mlp-torch-cuda; about ten
# minutes, in two calls):
#   GPU_CHECK_ONLY=pytest-gpu-core,pytest-gpu-compile-state,mlp-adam-small,mlp-adam-large,gelu-erf \
#     bash benchmarks/gpu_check.sh OUT/d
#   GPU_CHECK_ONLY=gpt-step,backends-cuda,mlp-torch-cuda bash benchmarks/gpu_check.sh OUT/e
set -uo pipefail

out=${1:?usage: benchmarks/gpu_check.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p "$out" && out=$(cd "$out" && pwd)
: > "$out/summary.txt"

# 1. The wheels from .whl/ (as printed by ../shared/tools/gpu-wheels.sh), then the project itself.
if ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || echo "wheel install failed" | tee -a "$out/summary.txt"
else
  echo "no .whl/ folder: using the packages already installed" | tee -a "$out/summary.txt"
fi
export PYTHONPATH=/tmp/site:$root${PYTHONPATH:+:$PYTHONPATH}

# 2. numba 0.68.0 still touches numpy.row_stack, which NumPy 2.5 removed (numba-cuda issue 907):
#    put it back before numba is imported, for this machine only.
mkdir -p /tmp/shim
echo 'import numpy; numpy.row_stack = getattr(numpy, "row_stack", numpy.vstack)' > /tmp/shim/sitecustomize.py
export PYTHONPATH=/tmp/shim:$PYTHONPATH
export CUPY_TF32=0            # cuBLAS in true FP32: the figures compare against FP32 SGEMM
unset NUMBA_ENABLE_CUDASIM    # real hardware, not the simulator

# step NAME LIMIT COMMAND...: run COMMAND with a time limit, log to OUT_DIR/NAME.log, record the outcome.
step() {
  local name=$1 limit=$2 start rc
  shift 2
  if [ -n "${GPU_CHECK_ONLY:-}" ] && [[ ",$GPU_CHECK_ONLY," != *",$name,"* ]]; then
    return 0
  fi
  start=$(date +%s)
  echo "== $name: $*" | tee -a "$out/summary.txt"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  echo "   $name: exit $rc after $(( $(date +%s) - start ))s" | tee -a "$out/summary.txt"
  tail -n 15 "$out/$name.log"
}

{ nvidia-smi; echo; python3 -c 'import sys, numpy, cupy, numba, numba.cuda; print(sys.version);
print("numpy", numpy.__version__, "cupy", cupy.__version__, "numba", numba.__version__);
print("gpu", cupy.cuda.runtime.getDeviceProperties(0)["name"].decode())';
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } > "$out/environment.txt" 2>&1

# Limits sum to about 600 s for the first six steps and 600 s for issue 16's four: the machine is lent for minutes,
# so each step is sized to fit, the most wanted first, and each writes its own files (a step that runs out of time
# loses only itself). One call of the device tool runs at most 10 minutes: run the two halves in two calls
# (GPU_CHECK_ONLY), or everything when the budget allows.
step mlp-small 120 python3 benchmarks/mlp_step.py --device cuda --shapes small --rounds 11 --memory-steps 300 \
  "$out/mlp-small"
# Issue 15, md.profile on the GPU: the profiler's overhead at this launch-bound shape (each step profiled, with CUDA
# events; one profile around a block; the old way, waiting around every op) in interleaved rounds, goal < 20%, and
# per op the device time (events) beside the host time and the old way's time. tests/test_profiler.py (in the core
# tests below) checks the real CUDA-event clock.
step profiler-overhead 60 python3 benchmarks/profiler_overhead.py --device cuda --rounds 9 --steps 50 "$out/profiler"
core=(tests/test_compile.py tests/test_profiler.py tests/test_kernels_cuda.py
      tests/test_ops_gradients.py)
step pytest-gpu-core 90 python3 -m pytest -m gpu -q -p no:cacheprovider --junitxml "$out/pytest-gpu-core.xml" \
  "${core[@]}"
step mlp-large 170 python3 benchmarks/mlp_step.py --device cuda --shapes large,huge --rounds 7 "$out/mlp-large"
step gemm-ladder 100 python3 benchmarks/gemm_ladder.py cuda "$out/gemm" --sizes 1024 2048 4096
step pytest-gpu-rest 60 python3 -m pytest -m gpu -q -p no:cacheprovider --continue-on-collection-errors \
  --junitxml "$out/pytest-gpu-rest.xml" "${core[@]/#/--ignore=}" tests
# Issue 16, precision and the roofline: cuBLAS GEMM at FP32 / TF32 / FP16 for n = 1024..8192, copy and triad
# bandwidth, the MLP layers by arithmetic intensity; the MLP step in FP32, TF32 and FP16-autocast (minidl and
# PyTorch); the same MLP trained in each precision (test loss against FP32's); the CuPy precision tests.
step roofline 150 python3 benchmarks/roofline.py cuda "$out/roofline.json"
step mlp-precision 240 python3 benchmarks/mlp_step.py --device cuda --shapes large,huge --rounds 5 --memory-steps 0 \
  --implementations minidl-nn,minidl-tf32,minidl-amp,torch,torch-tf32,torch-amp "$out/mlp-precision"
step amp-accuracy 120 python3 benchmarks/amp_accuracy.py --device cuda "$out/amp-accuracy"
step pytest-gpu-precision 90 python3 -m pytest -m gpu -q -p no:cacheprovider --junitxml "$out/pytest-gpu-precision.xml" \
  tests/test_precision_gpu.py tests/test_kernels_cuda.py -k "precision or autocast or tf32 or warptile"
# nanoGPT's shakespeare-char GPT (6 layers, 6 heads, 384 channels, block 256, batch 64): minidl on CuPy against
# PyTorch eager on CUDA when torch is installed (minidl alone otherwise), plus prefill/decode tokens/s.
step gpt-step 120 python3 benchmarks/gpt_step.py --device cuda --config gpu --step --compiled --rounds 5 \
  --block-seconds 1 --decode --profile "$out/gpt"
# One GPU: the NCCL backend as a group of one rank (collectives, DDP); more ranks need more GPUs.
step nccl-one-rank 45 python3 -m pytest -m gpu -q -p no:cacheprovider tests/test_distributed.py
# Issue 15, state in md.compile: the Adam step at 784-128-128-10/64 and 784-1024-1024-10/512 (hand-written CuPy
# Adam; minidl eager; minidl compiled, a CUDA graph with the moments as graph inputs and outputs and the arithmetic
# on lr, betas and step counts on the host; PyTorch eager; PyTorch captured with torch.cuda.graph and
# Adam(capturable=True)), and the compiled and captured steps with BatchNorm1d after each hidden layer (the -bn
# rows); then the compiled-state tests on CuPy (every optimizer, schedules, BatchNorm, dropout: the eager bits).
# One step per shape: each worker process imports CuPy and PyTorch and captures its graph, about ten seconds each,
# and the ten implementations of both shapes did not fit 200 s on the H200 (2026-12-04).
adam_impls=handwritten,minidl-nn,minidl-compiled,torch,torch-graph,minidl-compiled-bn,torch-graph-bn
step mlp-adam-small 110 python3 benchmarks/mlp_step.py --device cuda --optimizer adam --shapes small --rounds 5 \
  --block-seconds 0.3 --memory-steps 0 --implementations "$adam_impls" "$out/mlp-adam-small"
step mlp-adam-large 110 python3 benchmarks/mlp_step.py --device cuda --optimizer adam --shapes large --rounds 5 \
  --block-seconds 0.3 --memory-steps 0 --implementations "$adam_impls" "$out/mlp-adam-large"
step pytest-gpu-compile-state 90 python3 -m pytest -q -p no:cacheprovider --junitxml "$out/pytest-gpu-compile-state.xml" \
  tests/test_compile_state.py tests/test_compile_host_scalars.py tests/test_compile.py tests/test_own_functions.py \
  tests/test_floor_division.py -k cupy
# Issue 18 on a GPU: the same nn + SGD step on each library's GPU (CuPy, PyTorch on CUDA, JAX on CUDA, each in its
# own process; a library that cannot is listed as skipped with its error), and minidl on torch CUDA tensors
# against PyTorch's own autograd on the same kernels (goal <= 1.05x at both shapes).
step backends-cuda 150 python3 benchmarks/backends_step.py --device cuda --rounds 5 --flat-steps 300 "$out/backends"
step mlp-torch-cuda 150 python3 benchmarks/mlp_step.py --device cuda --torch --shapes small,large --rounds 5 \
  --memory-steps 0 "$out/mlp-torch"
# GELU with the library's own erf (eleven passes) against the exp-built Phi (thirty-seven) and PyTorch's fused
# kernel, on torch CUDA tensors at the GPT example's activation (64 x 256 rows, 1536 wide).
step gelu-erf 60 python3 benchmarks/gelu_erf.py --device cuda --rows 16384 "$out/gelu"
# Further benchmark lines go here, one `step` each, writing under "$out".

echo "results in $out"
