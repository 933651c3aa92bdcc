#!/bin/bash
# Before/after of the MLP step at 784-128-128-10/64 (benchmarks/mlp_step.py, one BLAS thread, process CPU time),
# the two checkouts run one after the other, twice. usage: ab_mlp.sh BEFORE_CHECKOUT AFTER_CHECKOUT OUT
before=$1 after=$2 out=$3
for round in 1 2; do
  for variant in before after; do
    case $variant in before) tree=$before ;; *) tree=$after ;; esac
    (cd "$tree" && OPENBLAS_NUM_THREADS=1 /work/venv/bin/python benchmarks/mlp_step.py --shapes small --threads 1 \
       --clock cpu --rounds 5 --memory-steps 0 --implementations minidl,minidl-nn,torch "$out/$variant-$round" > /dev/null)
    echo "== $variant round $round"; cat "$out/$variant-$round/mlp_step.txt"
  done
done
