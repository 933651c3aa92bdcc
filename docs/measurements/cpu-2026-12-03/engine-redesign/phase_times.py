import sys, os, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, sys.argv[1])
import numpy as np
import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
dims, batch = ((784, 128, 128, 10), 64)
md.manual_seed(0)
model = nn.Sequential(nn.Linear(dims[0], dims[1]), nn.ReLU(), nn.Linear(dims[1], dims[2]), nn.ReLU(), nn.Linear(dims[2], dims[3]))
opt = md.optim.SGD(model.parameters(), lr=0.01)
rng = np.random.default_rng(0)
x = md.tensor(rng.standard_normal((batch, dims[0])).astype(np.float32))
y = md.tensor(rng.integers(0, dims[3], batch))
tf = tb = ts = 0.0
n = int(sys.argv[2])
clock = time.process_time
for i in range(n):
    t0 = clock(); opt.zero_grad(); loss = F.cross_entropy(model(x), y)
    t1 = clock(); loss.backward()
    t2 = clock(); opt.step(); t3 = clock()
    if i >= 50: tf += t1 - t0; tb += t2 - t1; ts += t3 - t2
m = n - 50
print(f"{sys.argv[1]:16s} fwd {tf/m*1e6:7.1f} us  bwd {tb/m*1e6:7.1f} us  step {ts/m*1e6:6.1f} us")
