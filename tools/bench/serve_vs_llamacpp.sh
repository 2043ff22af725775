#!/usr/bin/env bash
# `tailor serve` against llama-cpp-python's OpenAI-compatible server on the same GGUF, side by side: both servers
# run at once on loopback with 2 threads each (idle while the other is measured), and for each round and each
# concurrency tools/bench/serve_load.py drives Tailor, then llama-cpp-python, with the same streamed greedy chat
# requests. llama-cpp-python runs with --interrupt_requests False: by default a new request cuts the running
# stream short, which under concurrency would count replies of a few tokens. One JSON line per measurement goes to OUT.jsonl (label tailor | llama-cpp).
# Needs a release build (swift build -c release) and llama-cpp-python[server] in /opt/refvenv.
# Usage: tools/bench/serve_vs_llamacpp.sh MODEL.gguf OUT.jsonl [REQUESTS] [MAX_TOKENS] [ROUNDS] [CONCURRENCY...]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; out="$2"; requests="${3:-16}"; max_tokens="${4:-64}"; rounds="${5:-1}"; shift $(( $# < 5 ? $# : 5 ))
levels=("$@"); [ ${#levels[@]} -eq 0 ] && levels=(1 4 8 16)
py=/opt/refvenv/bin/python
work=$(mktemp -d)
OPENBLAS_NUM_THREADS=2 .build/release/tailor serve --model "$model" --served-model-name smollm2 --port 18081 \
  --max-batch 16 > "$work/tailor.log" 2>&1 &
tailor_pid=$!
"$py" -m llama_cpp.server --model "$model" --model_alias smollm2 --n_threads 2 --n_threads_batch 2 --n_ctx 2048 --interrupt_requests False \
  --host 127.0.0.1 --port 18082 > "$work/llama.log" 2>&1 &
llama_pid=$!
trap 'kill $tailor_pid $llama_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
for url in http://127.0.0.1:18081/health http://127.0.0.1:18082/v1/models; do
  for _ in $(seq 600); do curl -sf "$url" > /dev/null && break; sleep 1; done
  curl -sf "$url" > /dev/null || { echo "server at $url did not start"; cat "$work"/*.log; exit 1; }
done
for round in $(seq 1 "$rounds"); do
  for c in "${levels[@]}"; do
    for server in tailor:18081 llama-cpp:18082; do
      "$py" tools/bench/serve_load.py --base-url "http://127.0.0.1:${server#*:}/v1" --model smollm2 --label "${server%%:*}" \
        --concurrency "$c" --requests "$requests" --max-tokens "$max_tokens" --json "$out"
    done
  done
done
