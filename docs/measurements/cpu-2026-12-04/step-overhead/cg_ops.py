"""One op's forward + backward at the GPT example's sizes, for callgrind (instrumentation on around N calls).
usage: cg_ops.py ROOT N   (env CASE = gelu | attention | layer_norm)"""
import os, subprocess, sys
root, n = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, root)
import numpy as np
import minidl as md, minidl.nn.functional as F
r = np.random.default_rng(0)
case = os.environ["CASE"]
def t(*shape, grad=True):
    return md.tensor(r.standard_normal(shape).astype("float32"), requires_grad=grad)
if case == "gelu":
    x = t(12, 64, 512); g = t(12, 64, 512, grad=False); leaves = [x]
    f = lambda: F.gelu(x)
elif case == "attention":
    q, k, v = t(12, 4, 64, 32), t(12, 4, 64, 32), t(12, 4, 64, 32); g = t(12, 4, 64, 32, grad=False); leaves = [q, k, v]
    f = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
elif case == "layer_norm":
    x, w, b = t(12, 64, 128), t(128), t(128); g = t(12, 64, 128, grad=False); leaves = [x, w, b]
    f = lambda: F.layer_norm(x, (128,), w, b)
elif case == "linear":
    x, w, b = t(12, 64, 128), t(512, 128), t(512); g = t(12, 64, 512, grad=False); leaves = [x, w, b]
    f = lambda: F.linear(x, w, b)
def step():
    f().backward(g)
    for leaf in leaves:
        leaf.grad = None
for _ in range(5): step()
if os.environ.get("CG"):
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
for _ in range(n): step()
if os.environ.get("CG"):
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
