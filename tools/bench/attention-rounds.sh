#!/usr/bin/env bash
# Attention forward + backward, interleaved rounds on SmolLM2-135M's attention shapes (B 8, H 9, G 3, D 64; T 256 and
# 1024): Tailor's blocked kernel and the materialising kernel it replaced (`tailor bench attention`, which alternates
# the two inside each round), PyTorch's SDPA (tools/bench/torch_attention.py), and the f32 matrix-product ceiling
# (tools/bench/ceiling.py) in every round. Appends JSON lines to OUT and prints per-kernel medians with GFLOP/s
# (7·B·H·T²·D flops: the causal half of the 2 forward and 5 backward products) as a fraction of the ceiling.
# Usage: tools/bench/attention-rounds.sh [ROUNDS=3] [OUT=bench-attention.jsonl] [PYTHON=/opt/refvenv/bin/python]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"; out="${2:-bench-attention.jsonl}"; python="${3:-/opt/refvenv/bin/python}"
tailor=.build/release/tailor
# The tuned preload when it can be built (MKL shim + tcmalloc); SDPA's attention kernel does not go through MKL.
preload="$(tools/bench/tuned-torch-env.sh 2>/dev/null || true)"
if [ -z "$preload" ]; then   # no libtcmalloc-minimal4: the MKL shim alone, which the f32 ceiling needs on AMD CPUs
  preload="${TMPDIR:-/tmp}/tailor-mkl-shim.so"
  [ -f "$preload" ] || gcc -O2 -shared -fPIC -o "$preload" tools/bench/mkl_shim.c
  echo "note: no libtcmalloc-minimal4; PyTorch runs with the MKL shim only" >&2
fi
for round in $(seq 1 "$rounds"); do
  LD_PRELOAD="$preload" $python tools/bench/ceiling.py --f32-only | tail -1 | sed "s/^/{\"round\": $round, \"ceiling\": /; s/\$/}/" >> "$out"
  $tailor bench attention --rounds 3 --json | $python -c 'import json,sys; [print(json.dumps({"round": int(sys.argv[1]), **r})) for r in json.load(sys.stdin)]' "$round" >> "$out"
  LD_PRELOAD="$preload" $python tools/bench/torch_attention.py --rounds 3 | sed "s/^{/{\"round\": $round, /" >> "$out"
done
$python - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ceiling = statistics.median(r["ceiling"]["f32_gflops"] for r in rows if "ceiling" in r)
print(f"f32 matrix-product ceiling (median): {ceiling:.0f} GFLOP/s")
groups = {}
for r in rows:
    if "kernel" in r:
        groups.setdefault((r["sequenceLength"], r["kernel"]), []).append(r)
for (t, kernel), rs in sorted(groups.items()):
    f = statistics.median(r["forwardSeconds"] for r in rs); b = statistics.median(r["backwardSeconds"] for r in rs)
    r0 = rs[0]
    flops = 7 * r0["batch"] * r0["heads"] * t * t * r0["headDim"]
    saved = f', saved {r0["savedBytes"] / 2**20:.1f} MiB' if "savedBytes" in r0 else ""
    print(f"T={t:5d} {kernel:13s} forward {1e3 * f:8.2f} ms  backward {1e3 * b:8.2f} ms  total {1e3 * (f + b):8.2f} ms"
          f"  {flops / (f + b) / 1e9:6.1f} GFLOP/s ({100 * flops / (f + b) / 1e9 / ceiling:4.1f}% of ceiling){saved}")
PY
