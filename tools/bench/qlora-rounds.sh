#!/usr/bin/env bash
# QLoRA with gradient checkpointing, interleaved rounds: Tailor (`tailor bench train --method qlora`, NF4 with double
# quantization, f32 products without bf16 dot products) against PyTorch + PEFT + bitsandbytes (tools/bench/torch_train.py
# --method qlora, tuned as tools/bench/tuned-torch-env.sh), LoRA r 16 α 32 on all linear layers, batch 4 x 256, the
# order of the two sides alternating from round to round. Appends JSON lines to OUT and prints each round's ratio and
# their median.
# Usage: tools/bench/qlora-rounds.sh MODEL.gguf [ROUNDS=3] [OUT=bench-qlora.jsonl] [PYTHON=/opt/refvenv/bin/python]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; rounds="${2:-3}"; out="${3:-bench-qlora.jsonl}"; python="${4:-/opt/refvenv/bin/python}"
tailor=.build/release/tailor
dtype=$(grep -qw avx512_bf16 /proc/cpuinfo && echo bf16 || echo f32)
preload="$(tools/bench/tuned-torch-env.sh)"
record() { printf '{"round": %d, "side": "%s", "what": "train-qlora-ckpt", "result": %s}\n' "$1" "$2" "$(tr -d '\n')" >> "$out"; }
run_tailor() {
  $tailor bench train --model "$model" --method qlora --gradient-checkpointing true --lora-rank 16 --compute-dtype "$dtype" \
    --json | record "$1" tailor
}
run_torch() {
  LD_PRELOAD="$preload" $python tools/bench/torch_train.py --gguf "$model" --method qlora --gradient-checkpointing \
    --lora-r 16 --lora-alpha 32 --dtype "$dtype" | tail -1 | record "$1" "torch-bnb-$dtype"
}
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then run_tailor "$round"; run_torch "$round"; else run_torch "$round"; run_tailor "$round"; fi
done
$python - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if '"train-qlora-ckpt"' in line]
by_round = {}
for r in rows:
    res = r["result"]
    tps = res.get("tokensPerSecond", res.get("tokens_per_s"))
    rss = res["peakRSSBytes"] / 2**20 if "peakRSSBytes" in res else res.get("peak_rss_mib")
    by_round.setdefault(r["round"], {})["tailor" if r["side"] == "tailor" else "torch"] = (tps, rss)
ratios = []
for k in sorted(by_round):
    d = by_round[k]
    if "tailor" in d and "torch" in d:
        ratios.append(d["tailor"][0] / d["torch"][0])
        print(f"round {k}: Tailor {d['tailor'][0]:.1f} tok/s ({d['tailor'][1]:.0f} MiB), PyTorch + bitsandbytes "
              f"{d['torch'][0]:.1f} tok/s ({d['torch'][1]:.0f} MiB), ratio {ratios[-1]:.3f}")
if ratios: print(f"median ratio {statistics.median(ratios):.3f} over {len(ratios)} rounds")
PY
