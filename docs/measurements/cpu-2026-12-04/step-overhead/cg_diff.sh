#!/bin/bash
# usage: cg_diff.sh SCRIPT NAME ROOT LOW HIGH [env...]: instructions per step = (I(HIGH) - I(LOW)) / (HIGH - LOW)
script=$1 name=$2 root=$3 low=$4 high=$5; shift 5
run() { env "$@" CG=1 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/prof/cg.$name.$n /work/venv/bin/python $script $root $n 2>&1 | grep Collected | awk '{print $4}'; }
n=$low; a=$(run "$@"); n=$high; b=$(run "$@")
echo "$name root=$root steps $low: $a instructions, $high: $b; per step: $(( (b - a) / (high - low) ))"
