"""Per-step time of a tiny MLP (8-16-4, batch 4, SGD), where minidl's Python overhead dominates.

Usage: python benchmarks/tiny_step_overhead.py REPO_ROOT [nomark]
(REPO_ROOT: the checkout to import minidl from, so two branches can be compared; "nomark" turns off
the optimizer's version-counter bump, to see what that costs). Prints the best of 7 blocks of 1000 steps.
"""
import sys, time
sys.path.insert(0, sys.argv[1])
import minidl as md, minidl.nn as nn, minidl.nn.functional as F, minidl.optim as optim
mode = sys.argv[2] if len(sys.argv) > 2 else ""
if mode == "nomark":
    import minidl.optim.optimizer as o  # the name differs between older and newer checkouts
    for name in ("changed_in_place", "mark_changed_in_place"):
        if hasattr(o, name):
            setattr(o, name, lambda p: None)
md.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
opt = optim.SGD(model.parameters(), lr=0.01)
x = md.randn(4, 8); y = md.tensor([0, 1, 2, 3])
def step():
    opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
for _ in range(200): step()
best = 1e9
for r in range(7):
    t = time.perf_counter()
    for _ in range(1000): step()
    best = min(best, (time.perf_counter() - t) / 1000)
print(sys.argv[1], mode, f"{best*1e6:.1f} us/step")
