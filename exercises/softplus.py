"""Exercise, chapter 3 (Autograd): write a Function's backward.

``Softplus`` computes log(1 + e^a), stably.  Write its ``backward(self, grad, a)``:
return dL/da given dL/d(output) = ``grad``.  Write it with operators and ops
(``minidl.ops.elementwise.Sigmoid.apply``), not with ``self.xp``: then the same
formula runs on raw arrays for ``loss.backward()`` and on Tensors under
``create_graph=True``, and second derivatives work too (see "One formula, two
kinds of values" in the chapter).

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_softplus.py -q``
"""

from __future__ import annotations

from minidl.autograd.function import Function


class Softplus(Function):
    """``Softplus.apply(x)``: log(1 + exp(x)), elementwise."""

    def forward(self, a):
        xp = self.xp
        return (a + xp.abs(a)) / 2 + xp.log1p(xp.exp(-xp.abs(a)))   # max(a, 0) + log(1 + e^-|a|)

    def backward(self, grad, a):
        raise NotImplementedError("exercise softplus: write Softplus.backward (d softplus / da is a sigmoid)")
