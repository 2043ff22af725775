#!/usr/bin/env bash
# Data-parallel training on this machine: SmolLM2-135M LoRA and full fine-tuning with 1 rank × 2 threads against
# 2 ranks × 1 thread (`mpirun --bind-to core`: each rank's kernels see one core). Rounds alternate the two set-ups
# so drift on a shared machine hits both. Per run it prints the medians over steps 2… of tokens/s, seconds per step,
# seconds waiting in collectives and bytes rank 0 handed to them (from metrics.jsonl), and the state each rank holds.
# Needs a release build (swift build -c release) and Open MPI (scripts/install-deps.sh).
# Usage: tools/bench/distributed.sh [MODEL.gguf] [STEPS] [ROUNDS] [ZERO (0|1, for the 2-rank runs)]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="${1:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"; steps="${2:-8}"; rounds="${3:-2}"; zero="${4:-0}"
tailor=$PWD/.build/release/tailor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --oversubscribe --allow-run-as-root --mca btl self,tcp)
summary() {   # method, set-up, metrics.jsonl
  python3 - "$@" <<'PY'
import json, statistics, sys
method, setup, path = sys.argv[1:4]
rows = [json.loads(l) for l in open(path)][1:]
med = lambda f: statistics.median(f(r) for r in rows)
print(f"{method:5} {setup:17} tokens/s {med(lambda r: r['tokens'] / r['seconds']):7.1f}  s/step {med(lambda r: r['seconds']):6.3f}"
      f"  comm s/step {med(lambda r: r.get('comm_seconds', 0)):6.3f}  bytes/step {int(med(lambda r: r.get('bytes_sent', 0))):>11,}")
PY
}
for round in $(seq 1 "$rounds"); do
  for method in lora full; do
    lr=$([ $method = full ] && echo 1e-5 || echo 2e-4)
    args=(train --model "$model" --data data/sample/train.jsonl --method $method --max-steps "$steps" --batch-size 4
          --learning-rate $lr --save-steps 0 --logging-steps 1000)
    rm -rf "$work/one" "$work/two"
    "${mpi[@]}" -np 1 --bind-to none "$tailor" "${args[@]}" --out "$work/one" > "$work/one.log" 2>&1
    summary $method "1 rank×2 thr" "$work/one/metrics.jsonl"
    "${mpi[@]}" -np 2 --bind-to core "$tailor" "${args[@]}" --out "$work/two" --zero "$zero" > "$work/two.log" 2>&1
    summary $method "2 ranks×1 thr Z$zero" "$work/two/metrics.jsonl"
    grep -h "per rank" "$work/two.log" | sed "s/^/$method 2 ranks: /"   # optimizer state, split state, masters
  done
done
