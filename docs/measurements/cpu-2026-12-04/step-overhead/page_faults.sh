#!/bin/bash
# Page faults per minidl GPT training step (CPU config), default glibc malloc and with raised thresholds:
# perf stat's page-faults over 10 and over 40 steps (same start-up), the difference / 30.
# usage: page_faults.sh CHECKOUT
tree=$1
malloc="MALLOC_TRIM_THRESHOLD_=536870912 MALLOC_MMAP_THRESHOLD_=536870912"
here=$(cd "$(dirname "$0")" && pwd)
faults() { env $2 OPENBLAS_NUM_THREADS=1 perf stat -e page-faults -x, /work/venv/bin/python "$here/cg_gpt.py" "$tree" "$1" 2>&1 | tail -1 | cut -d, -f1; }
for setting in default malloc; do
  extra=; [ $setting = malloc ] && extra=$malloc
  a=$(faults 10 "$extra"); b=$(faults 40 "$extra")
  echo "$setting ($extra): 10 steps $a faults, 40 steps $b faults: $(( (b - a) / 30 )) per step"
done
