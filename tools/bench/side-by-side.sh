#!/usr/bin/env bash
# Runs Tailor's benchmarks and the PyTorch ones on the same model and shapes, back to back, and appends one JSON
# line per measurement to the output file (default bench-results.jsonl). Needs a release build of tailor and the
# reference venv (tools/reference/README.md). Run it on an otherwise idle machine.
# Every training measurement runs twice per side: f32 products (PyTorch stock f32) and bf16 products (Tailor
# --compute-dtype bf16; PyTorch with a bf16 base for LoRA/QLoRA and autocast for full fine-tuning).
# Usage: tools/bench/side-by-side.sh MODEL.gguf [OUT.jsonl] [PYTHON] [quick]   ("quick": no checkpointing variants)
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; out="${2:-bench-results.jsonl}"; python="${3:-/opt/refvenv/bin/python}"; quick="${4:-}"
tailor=.build/release/tailor
record() { printf '{"side": "%s", "what": "%s", "result": %s}\n' "$1" "$2" "$(cat)" | tr -d '\n' >> "$out"; echo >> "$out"; }
for dtype in f32 bf16; do
  [ -n "$quick" ] || $tailor bench forward --model "$model" --compute-dtype $dtype --json | record tailor "forward-$dtype"
  [ -n "$quick" ] || $python tools/bench/torch_forward.py --gguf "$model" --dtype $dtype | tail -1 | record torch "forward-$dtype"
done
# Inference against llama.cpp (llama-cpp-python built from source in the same venv, 2 threads) on the GGUFs that
# `tailor export gguf` writes: Tailor bf16 vs llama.cpp bf16, Tailor int8 vs llama.cpp q8_0, three interleaved rounds,
# each run beside a memory-bandwidth measurement (`tailor bench forward` reports decode as a fraction of it).
if [ -z "$quick" ] && $python -c 'import llama_cpp' 2>/dev/null; then
  gguf_dir=$(mktemp -d)
  $tailor export gguf --model "$model" --type bf16 --out "$gguf_dir/model-bf16.gguf" > /dev/null
  $tailor export gguf --model "$model" --type q8_0 --out "$gguf_dir/model-q8_0.gguf" > /dev/null
  for round in 1 2 3; do
    for pair in "bf16 bf16" "int8 q8_0"; do
      set -- $pair
      $tailor bench forward --model "$model" --compute-dtype "$1" --json | record tailor "forward-$1-round$round"
      $python tools/bench/llamacpp_forward.py --gguf "$gguf_dir/model-$2.gguf" --threads 2 | tail -1 \
        | record llamacpp "forward-$2-round$round"
    done
  done
  rm -rf "$gguf_dir"
fi
for dtype in f32 bf16; do
  for method in lora full qlora; do
    gcs="false true"; [ -n "$quick" ] && gcs=$([ $method = qlora ] && echo true || echo false)
    for gc in $gcs; do
      flag=$([ $gc = true ] && echo --gradient-checkpointing || true)
      $tailor bench train --model "$model" --method $method --gradient-checkpointing $gc --compute-dtype $dtype --json \
        | record tailor "train-$method-$dtype$([ $gc = true ] && echo -gc)"
      $python tools/bench/torch_train.py --gguf "$model" --method $method --dtype $dtype $flag | tail -1 \
        | record torch "train-$method-$dtype$([ $gc = true ] && echo -gc)"
    done
  done
done
echo "results appended to $out"
