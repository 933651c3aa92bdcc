"""Tiny MLP (8-16-4, batch 4, SGD) step, for callgrind: instrumentation switched on around STEPS steps only."""
import os, subprocess, sys
sys.path.insert(0, sys.argv[1])
steps = int(sys.argv[2])
import minidl as md, minidl.nn as nn, minidl.nn.functional as F, minidl.optim as optim
md.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
opt = optim.SGD(model.parameters(), lr=0.01)
x = md.randn(4, 8); y = md.tensor([0, 1, 2, 3])
def step():
    opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
for _ in range(30): step()
subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
for _ in range(steps): step()
subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
