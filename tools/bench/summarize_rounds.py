"""Medians of interleaved benchmark rounds (train-rounds.sh's JSON lines), Tailor / peer ratios, and Tailor's achieved
GFLOP/s as a fraction of the machine's matrix-product peak measured in the same run: the faster of the f32 and bf16
ceilings (bf16 on CPUs with bf16 dot products; f32 where bf16 is only emulated).
Usage: python tools/bench/summarize_rounds.py bench-train.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

# Matrix-product work per trained token of SmolLM2-135M at 4 x 256 (134.5M product weights incl. the tied head;
# attention 2 x 2 x T x C x layers per token forward): forward 2N + attention, LoRA adds input gradients (2N +
# 2 x attention), full adds weight gradients (2N more). The LoRA matrices themselves are < 1% and left out.
GFLOP_PER_TOKEN = {"train-lora": 0.59, "train-full": 0.86}


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    values = defaultdict(list)
    for row in rows:
        r = row["result"]
        if row["side"] == "ceiling":
            values[("ceiling", "f32")].append(r["f32_gflops"])
            if "bf16_gflops" in r:
                values[("ceiling", "bf16")].append(r["bf16_gflops"])
        else:
            values[(row["what"], row["side"])].append(r)
    f32 = statistics.median(values[("ceiling", "f32")]) if values[("ceiling", "f32")] else None
    bf16 = statistics.median(values[("ceiling", "bf16")]) if values[("ceiling", "bf16")] else None
    peaks = {name: v for name, v in (("f32", f32), ("bf16", bf16)) if v}
    peak_name = max(peaks, key=peaks.get) if peaks else None
    ceiling = peaks.get(peak_name)
    print("ceilings (median): " + ", ".join(f"{n} {v:.0f} GFLOP/s" for n, v in peaks.items())
          + (f"; peak = {peak_name}" if peak_name else ""))
    for what in sorted({k[0] for k in values if k[0] != "ceiling"}):
        sides = {side: runs for (w, side), runs in values.items() if w == what}
        def tps(run): return run.get("tokens_per_s") or run.get("tokensPerSecond") or run.get("tokens_per_second")
        medians = {side: statistics.median(tps(run) for run in runs) for side, runs in sides.items()}
        line = f"{what}: " + ", ".join(f"{side} {v:.0f} tok/s (n={len(sides[side])})" for side, v in sorted(medians.items()))
        if "tailor" in medians:
            peers = {s: v for s, v in medians.items() if s != "tailor"}
            if peers:
                best = max(peers, key=peers.get)
                line += f"; Tailor / best peer ({best}) = {medians['tailor'] / peers[best]:.2f}x"
            if what in GFLOP_PER_TOKEN and ceiling:
                for side, v in sorted(medians.items()):
                    gf = v * GFLOP_PER_TOKEN[what]
                    line += f"; {side} {gf:.0f} GFLOP/s = {100 * gf / ceiling:.0f}% of the {peak_name} peak"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
