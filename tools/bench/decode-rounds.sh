#!/usr/bin/env bash
# Inference speed, interleaved rounds: Tailor f32, bf16 and int8 (`tailor bench forward`, batch 1) against llama.cpp
# (llama-cpp-python built from source, tools/bench/llamacpp_forward.py; 2 threads, and 1 thread: its threads spin at
# every barrier, so on a machine where other jobs take a core 1 thread is llama.cpp's faster setting) on the bf16 and q8_0 GGUFs that
# `tailor export gguf` writes from the same model. Every Tailor run measures the memory read in the same run; the
# summary (tools/bench/summarize_decode.py) reports prefill 1 x T and greedy decode tokens/s medians, ratios, and each
# side's weight stream (weight bytes per token x tokens/s) as a fraction of the median measured memory read. The
# "-long" sides decode after a 1024-token prompt (Tailor: `tailor bench latency`), where attention reads a long cache.
# Usage: tools/bench/decode-rounds.sh MODEL.gguf [ROUNDS=3] [OUT=bench-decode.jsonl] [PYTHON=/opt/refvenv/bin/python]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; rounds="${2:-3}"; out="${3:-bench-decode.jsonl}"; python="${4:-/opt/refvenv/bin/python}"
tailor=.build/release/tailor
gguf_dir=$(mktemp -d)
trap 'rm -rf "$gguf_dir"' EXIT
$tailor export gguf --model "$model" --type bf16 --out "$gguf_dir/model-bf16.gguf" > /dev/null
$tailor export gguf --model "$model" --type q8_0 --out "$gguf_dir/model-q8_0.gguf" > /dev/null
record() { printf '{"round": %d, "side": "%s", "what": "%s", "result": %s}\n' "$1" "$2" "$3" "$(tr -d '\n')" >> "$out"; }
for round in $(seq 1 "$rounds"); do
  for dtype in f32 bf16 int8; do
    $tailor bench forward --model "$model" --compute-dtype $dtype --batch-size 1 --repeats 3 --decode-tokens 64 --json \
      | record "$round" tailor "$dtype"
  done
  for type in bf16 q8_0; do
    for threads in 2 1; do
      $python tools/bench/llamacpp_forward.py --gguf "$gguf_dir/model-$type.gguf" --threads $threads --repeats 3 \
        --decode-tokens 64 | tail -1 | record "$round" "llamacpp-${threads}t" "$type"
    done
  done
  # Decoding against a long KV cache: 64 tokens after a 1024-token prompt (prefill 1 x 1024 alongside).
  for dtype in bf16 int8; do
    $tailor bench latency --model "$model" --compute-dtype $dtype --prompt-tokens 1024 --new-tokens 64 --runs 3 --json \
      | record "$round" tailor-long "$dtype"
  done
  for type in bf16 q8_0; do
    $python tools/bench/llamacpp_forward.py --gguf "$gguf_dir/model-$type.gguf" --threads 2 --repeats 3 \
      --sequence-length 1024 --decode-prompt 1024 --decode-tokens 64 | tail -1 | record "$round" "llamacpp-2t-long" "$type"
  done
done
$python tools/bench/summarize_decode.py "$out"
