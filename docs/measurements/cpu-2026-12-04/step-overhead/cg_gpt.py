"""minidl GPT training step (benchmarks/gpt_step.py's CPU config), for callgrind: instrumentation on around STEPS steps."""
import os, subprocess, sys
root, steps = sys.argv[1], int(sys.argv[2])
sys.path[:0] = [root + "/benchmarks", root + "/examples", root]
import gpt_step as g
import minidl as md
from gpt import GPT, GPTConfig
corpus = md.data.tinyshakespeare()
config = GPTConfig(vocab_size=corpus.vocab_size, **{k: v for k, v in g.CONFIGS[os.environ.get("GPT_CONFIG", "cpu")].items() if k != "batch_size"})
config.batch_size = g.CONFIGS[os.environ.get("GPT_CONFIG", "cpu")]["batch_size"]
md.manual_seed(1337)
state = {k: v.numpy() for k, v in GPT(config).state_dict().items()}
trainer = g.Trainer("minidl", config, state, "cpu")
data = g.batches(corpus, "train", 20, config, seed=0)
for x, y in data[:3]:
    trainer.step(x, y)
if os.environ.get("CG"):
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
for i in range(steps):
    trainer.step(*data[i % len(data)])
if os.environ.get("CG"):
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
