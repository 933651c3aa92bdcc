#!/bin/bash
# Before/after of the GPT step (benchmarks/gpt_step.py, CPU config, one BLAS thread), with and without glibc's
# malloc thresholds raised, in interleaved rounds: each run times minidl against PyTorch in the same process.
# usage: ab_gpt.sh BEFORE_CHECKOUT AFTER_CHECKOUT OUT ROUNDS
before=$1 after=$2 out=$3 rounds=${4:-3}
malloc="MALLOC_TRIM_THRESHOLD_=536870912 MALLOC_MMAP_THRESHOLD_=536870912"
mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
  for variant in before after before-malloc after-malloc; do
    case $variant in before*) tree=$before ;; *) tree=$after ;; esac
    case $variant in *malloc) extra=$malloc ;; *) extra= ;; esac
    (cd "$tree" && env $extra OPENBLAS_NUM_THREADS=1 /work/venv/bin/python benchmarks/gpt_step.py --threads 1 --step \
       --rounds 5 --block-seconds 1.0 "$out/$variant-$round" > /dev/null)
    echo "$variant round $round: $(grep 'cpu  clock' "$out/$variant-$round/gpt_step.txt")"
  done
done
