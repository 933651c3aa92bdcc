import sys, os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, sys.argv[1])
import numpy as np
import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
shape = sys.argv[3] if len(sys.argv) > 3 else "small"
dims, batch = ((784, 128, 128, 10), 64) if shape == "small" else ((16, 16, 16, 4), 8)
md.manual_seed(0)
model = nn.Sequential(nn.Linear(dims[0], dims[1]), nn.ReLU(), nn.Linear(dims[1], dims[2]), nn.ReLU(), nn.Linear(dims[2], dims[3]))
opt = md.optim.SGD(model.parameters(), lr=0.01)
rng = np.random.default_rng(0)
x = md.tensor(rng.standard_normal((batch, dims[0])).astype(np.float32))
y = md.tensor(rng.integers(0, dims[3], batch))
for _ in range(int(sys.argv[2])):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
