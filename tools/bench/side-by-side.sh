#!/usr/bin/env bash
# Runs Tailor's benchmarks and the PyTorch ones on the same model and shapes, back to back, and appends one JSON
# line per measurement to the output file (default bench-results.jsonl). Needs a release build of tailor and the
# reference venv (tools/reference/README.md). Run it on an otherwise idle machine.
# Usage: tools/bench/side-by-side.sh MODEL.gguf [OUT.jsonl] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; out="${2:-bench-results.jsonl}"; python="${3:-/opt/refvenv/bin/python}"
tailor=.build/release/tailor
record() { printf '{"side": "%s", "what": "%s", "result": %s}\n' "$1" "$2" "$(cat)" | tr -d '\n' >> "$out"; echo >> "$out"; }
$tailor bench forward --model "$model" --json | record tailor forward
$python tools/bench/torch_forward.py --gguf "$model" | tail -1 | record torch forward
for method in lora full; do
  $tailor bench train --model "$model" --method $method --gradient-checkpointing false --json | record tailor "train-$method"
  $python tools/bench/torch_train.py --gguf "$model" --method $method | tail -1 | record torch "train-$method"
  $tailor bench train --model "$model" --method $method --gradient-checkpointing true --json | record tailor "train-$method-gc"
  $python tools/bench/torch_train.py --gguf "$model" --method $method --gradient-checkpointing | tail -1 | record torch "train-$method-gc"
done
$tailor bench train --model "$model" --method qlora --gradient-checkpointing true --json | record tailor train-qlora-gc
$python tools/bench/torch_train.py --gguf "$model" --method qlora --gradient-checkpointing | tail -1 | record torch train-qlora-gc
$tailor bench train --model "$model" --method qlora --gradient-checkpointing false --json | record tailor train-qlora
$python tools/bench/torch_train.py --gguf "$model" --method qlora | tail -1 | record torch train-qlora
echo "results appended to $out"
