"""md.profile(): per-op time, GEMM FLOPs, GFLOP/s and the GEMM share of a step."""

from __future__ import annotations

import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.autograd.hooks import installed_hooks
from minidl.tools import profiler


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
    assert text.splitlines()[0].split()[:3] == ["op", "phase", "calls"]
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


def test_device_backends_are_waited_for_around_each_op(monkeypatch):
    waits = []
    monkeypatch.setattr(profiler, "_DEVICE_BACKENDS", ("numpy",))  # pretend NumPy runs asynchronously
    monkeypatch.setattr(profiler, "synchronize", waits.append)
    a = md.ones((2, 2), backend="numpy")
    with md.profile() as prof:
        md.exp(a)
    assert waits.count("numpy") >= 4  # at enter, before and after the op, at exit
    assert rows(prof)[("Exp", "forward")]["calls"] == 1
    waits.clear()
    with md.profile(synchronize_device=False):
        md.exp(a)
    assert waits == []


def test_records_are_plain_data_for_plots(backend):
    with md.profile() as prof:
        mlp_step()
    for row in prof.records:
        assert set(row) == {"op", "phase", "calls", "seconds", "flops", "gflops_per_second", "share"}
    seconds = [row["seconds"] for row in prof.records]
    assert seconds == sorted(seconds, reverse=True)
