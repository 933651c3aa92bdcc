"""md.profile(): per-op time, GEMM FLOPs, GFLOP/s and the GEMM share of a step."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.autograd.hooks import installed_hooks
from minidl.tools import profiler
from minidl.tools.clocks import Clock, CudaEventClock, HostClock
from scripts import load_script


def mlp_step(sizes=(12, 8, 6, 4), batch=5):
    """One forward and backward pass of a small ReLU MLP; returns the parameters."""
    md.manual_seed(0)
    params = [(md.randn(out, inp, requires_grad=True), md.zeros(out, requires_grad=True))
              for inp, out in zip(sizes[:-1], sizes[1:])]
    h = md.randn(batch, sizes[0])
    for index, (weight, bias) in enumerate(params):
        h = F.linear(h, weight, bias)
        if index < len(params) - 1:
            h = F.relu(h)
    F.cross_entropy(h, md.tensor([i % sizes[-1] for i in range(batch)])).backward()
    return params


def rows(prof):
    return {(row["op"], row["phase"]): row for row in prof.records}


def test_one_row_per_op_and_phase_with_call_counts(backend):
    with md.profile() as prof:
        mlp_step()
    table = rows(prof)
    assert table[("Linear", "forward")]["calls"] == 3
    assert table[("Linear", "backward")]["calls"] == 3
    assert table[("ReLU", "forward")]["calls"] == 2
    assert table[("CrossEntropy", "backward")]["calls"] == 1


def test_ops_inside_a_backward_are_charged_to_it(backend):
    with md.profile() as prof:
        mlp_step()
    phases_of_matmul = {phase for op, phase in rows(prof) if op == "MatMul"}
    assert phases_of_matmul == set()  # linear's backward runs two MatMuls: they belong to its row
    assert prof.op_seconds <= prof.wall_seconds


def test_gemm_flops_are_two_m_k_n_per_product(backend):
    sizes, batch = (12, 8, 6, 4), 5
    with md.profile() as prof:
        mlp_step(sizes, batch)
    layers = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * batch * inp * out for inp, out in layers)
    # backward: every weight gradient, and the input gradient of every layer but the first
    backward = forward + sum(2 * batch * inp * out for inp, out in layers[1:])
    table = rows(prof)
    assert table[("Linear", "forward")]["flops"] == forward
    assert table[("Linear", "backward")]["flops"] == backward
    assert prof.gemm_flops == forward + backward
    assert table[("ReLU", "forward")]["flops"] == 0


def test_matmul_flops_count_batch_axes(backend):
    a, b = md.randn(3, 4, 5), md.randn(5, 6)
    with md.profile() as prof:
        md.matmul(a, b)
    assert prof.gemm_flops == 2 * 3 * 4 * 5 * 6


def test_gemm_share_and_rates_are_consistent(backend):
    with md.profile() as prof:
        mlp_step()
    assert 0.0 < prof.gemm_seconds <= prof.op_seconds <= prof.wall_seconds
    assert prof.gemm_share == pytest.approx(prof.gemm_seconds / prof.wall_seconds)
    linear = rows(prof)[("Linear", "forward")]
    assert linear["gflops_per_second"] == pytest.approx(linear["flops"] / linear["seconds"] / 1e9)
    assert sum(row["share"] for row in prof.records) <= 1.0 + 1e-9


def test_table_lists_every_row_and_the_gemm_line(backend):
    with md.profile() as prof:
        mlp_step()
    text = str(prof)
    assert text == prof.table()
    assert text.splitlines()[0].startswith("clocks: ")
    assert text.splitlines()[1].split()[:3] == ["op", "phase", "calls"]
    for row in prof.records:
        assert row["op"] in text
    assert "GEMM" in text.splitlines()[-1] and "GFLOP/s" in text.splitlines()[-1]


def test_no_hook_stays_installed_after_the_block_even_on_error(backend):
    with pytest.raises(ValueError):
        with md.profile():
            md.ones((2, 3)) @ md.ones((4, 5))
    assert installed_hooks() == ()


def test_convolution_gemm_is_counted_through_its_linear(backend):
    x, weight = md.randn(2, 3, 6, 6), md.randn(4, 3, 3, 3)
    with md.profile() as prof:
        F.conv2d(x, weight, padding=1)
    # im2col then one GEMM: (N*OH*OW, C*kh*kw) @ (C*kh*kw, out)
    assert prof.gemm_flops == 2 * (2 * 6 * 6) * (3 * 3 * 3) * 4


class FakeEvent:
    """Stands in for cupy.cuda.Event: each record() takes the next tick of a fake GPU clock (1 ms per tick)."""

    ticks = 0
    created = 0

    def __init__(self):
        FakeEvent.created += 1
        self.tick = None

    def record(self):
        FakeEvent.ticks += 1
        self.tick = FakeEvent.ticks


@pytest.fixture
def fake_gpu(monkeypatch):
    """NumPy pretends to be an asynchronous GPU backend timed by CUDA events; counts waits and event pairs read."""
    FakeEvent.ticks = FakeEvent.created = 0
    calls = {"waits": 0, "pairs": []}

    def elapsed_ms(start, end):
        calls["pairs"].append((start.tick, end.tick))
        return float(end.tick - start.tick)

    def synchronize():
        calls["waits"] += 1

    monkeypatch.setattr(profiler, "_ASYNC_BACKENDS", ("numpy",))
    monkeypatch.setitem(profiler._DEVICE_CLOCKS, "numpy", CudaEventClock(FakeEvent, elapsed_ms, synchronize))
    with md.using_backend("numpy"):
        yield calls


def test_cpu_times_use_one_clock_and_the_table_says_so(backend):
    if backend == "cupy":
        pytest.skip("a GPU has two clocks: test_on_a_gpu_device_times_come_from_cuda_events")
    with md.profile() as prof:
        mlp_step()
    lines = prof.table().splitlines()
    assert lines[0].startswith("clocks: total ms = perf_counter") and "device time = host time" in lines[0]
    assert "host ms" not in lines[1] and "total ms" in lines[1]
    for row in prof.records:
        assert row["host_seconds"] == row["seconds"]
    assert prof.host_op_seconds == prof.op_seconds


def test_on_a_gpu_device_times_come_from_cuda_events(backend):
    if backend != "cupy":
        pytest.skip("needs the CuPy backend on a CUDA GPU")
    mlp_step()  # warm up: first calls compile kernels
    with md.profile() as prof:
        mlp_step()
    assert prof.clocks["device"] == "CUDA events (GPU clock)"
    assert prof.table().splitlines()[1].split()[3:7] == ["device", "ms", "host", "ms"]
    assert all(row["seconds"] > 0.0 and row["host_seconds"] > 0.0 for row in prof.records)
    assert 0.0 < prof.gemm_seconds <= prof.op_seconds <= prof.wall_seconds


def test_gpu_clock_waits_once_at_each_end_of_the_block_never_per_op(fake_gpu):
    with md.profile():
        assert fake_gpu["waits"] == 1  # at the start: work queued before the block is not the block's
        mlp_step()
        mlp_step()
        assert fake_gpu["waits"] == 1  # dozens of ops, no wait
    assert fake_gpu["waits"] == 2      # one wait, then every pair of events is read


def test_gpu_clock_pairs_events_around_every_op_and_every_nested_gemm(fake_gpu):
    with md.profile() as prof:
        mlp_step()
    table = rows(prof)
    outermost = sum(row["calls"] for row in prof.records)
    nested_gemms = 5  # linear backward: 3 weight gradients and 2 input gradients (the first layer's x needs none)
    pairs = fake_gpu["pairs"]
    assert len(pairs) == outermost + nested_gemms
    assert FakeEvent.ticks == 2 * len(pairs)           # two records per timed op, no more
    assert len({tick for pair in pairs for tick in pair}) == 2 * len(pairs)
    for start, end in pairs:                            # spans are nested or disjoint, never crossed
        assert start < end
        assert all(end2 < start or start2 > end or (start < start2 and end2 < end) or (start2 < start and end < end2)
                   for start2, end2 in pairs if (start2, end2) != (start, end))
    # Device times are the events' (1 ms per tick): a plain op spans 1 tick, a backward with k GEMMs 2k + 1.
    assert table[("ReLU", "forward")]["seconds"] == pytest.approx(2e-3)
    assert table[("Linear", "backward")]["seconds"] == pytest.approx((3 + 5 + 5) * 1e-3)
    assert prof.gemm_seconds == pytest.approx((3 + nested_gemms) * 1e-3)  # 3 forward Linears, 5 nested products
    assert table[("Linear", "backward")]["host_seconds"] < 1.0    # the host's own clock, kept apart


def test_gpu_table_names_the_clock_of_each_column(fake_gpu):
    with md.profile() as prof:
        mlp_step()
    lines = prof.table().splitlines()
    assert lines[0].startswith("clocks: device ms = CUDA events")
    assert "host ms = perf_counter" in lines[0] and "GPU waited for at both ends" in lines[0]
    assert lines[1].split()[:7] == ["op", "phase", "calls", "device", "ms", "host", "ms"]
    assert "device busy inside ops" in lines[-2] and lines[-1].startswith("GEMM")
    assert prof.clocks["device"] == "CUDA events (GPU clock)"


def test_a_long_block_reads_its_events_in_batches_and_reuses_them(fake_gpu, monkeypatch):
    monkeypatch.setattr(profiler, "_READ_AFTER", 4)
    with md.profile() as prof:
        mlp_step()
    assert fake_gpu["waits"] > 2                      # one wait per 4 spans, still not one per op
    assert FakeEvent.created < FakeEvent.ticks // 2   # read events were recorded again
    assert prof.gemm_seconds == pytest.approx(8e-3)   # the same figures as reading them all at the end


def test_without_synchronize_device_no_events_and_no_waits(fake_gpu):
    with md.profile(synchronize_device=False) as prof:
        mlp_step()
    assert fake_gpu["waits"] == 0 and FakeEvent.ticks == 0
    assert "GPU not waited for" in prof.table().splitlines()[0]


def test_records_are_plain_data_for_plots(backend):
    with md.profile() as prof:
        mlp_step()
    for row in prof.records:
        assert set(row) == {"op", "phase", "calls", "seconds", "host_seconds", "flops", "gflops_per_second", "share"}
    seconds = [row["seconds"] for row in prof.records]
    assert seconds == sorted(seconds, reverse=True)


def test_both_clocks_are_clocks():
    assert isinstance(HostClock("perf_counter"), Clock)
    assert isinstance(CudaEventClock(FakeEvent, lambda start, end: 0.0, lambda: None), Clock)


def test_the_gpu_overhead_script_runs_its_gpu_variants_on_a_stand_in(fake_gpu, monkeypatch):
    """benchmarks/profiler_overhead.py runs on scarce GPU time (gpu_check.sh): its GPU paths are tried here first."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts benchmarks/ first on the path
    script = load_script(Path(__file__).resolve().parents[1] / "benchmarks" / "profiler_overhead.py")
    assert isinstance(script.SyncEachOp(lambda: None), Clock)
    step = script.mlp_impls.build("minidl", (12, 8, 6, 4), 5, "cpu")
    seconds = script.timed_rounds(step, script.variants(step, "cuda"), rounds=2, steps=2)
    assert set(script.overheads(seconds)) == {"profiled", "profiled-block", "sync-each-op"}
    events = script.profile_of(step, 2)
    with script.sync_each_op(step.sync, "numpy"):
        old = script.profile_of(step, 2)
    assert "numpy" in profiler._DEVICE_CLOCKS  # the stand-in event clock is back
    lines = script.comparison(events, old)
    assert lines[0].split()[-2:] == ["sync-each-op", "ms"] and len(lines) == 1 + len(events.records)
