"""Medians of tools/bench/decode-rounds.sh's JSON lines: prefill 1 x T and greedy decode tokens/s per side, ratios,
and the decode weight stream (weight bytes read per token x tokens/s) as a fraction of the memory read that the
Tailor runs measured (median over every `bench forward` run of the file). Sides ending in "-long" decode after a
1024-token prompt and are paired with each other. llama.cpp's bytes per token are its GGUF's matrix
tensors (every tensor of rank >= 2: the tied token embedding is its output matrix), read with the gguf package.
Usage: python tools/bench/summarize_decode.py bench-decode.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

from gguf import GGUFReader


def gguf_matrix_bytes(path: str) -> int:
    return sum(int(t.n_bytes) for t in GGUFReader(path).tensors if sum(1 for d in t.shape if d > 1) >= 2)


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    runs = defaultdict(list)
    for row in rows:
        runs[(row["side"], row["what"])].append(row["result"])
    bandwidth = statistics.median(r["memoryReadBytesPerSecond"] for (side, _), rs in runs.items() if side == "tailor" for r in rs)
    print(f"memory read (median of the Tailor runs): {bandwidth / 1e9:.1f} GB/s")
    summary = {}
    for (side, what), rs in sorted(runs.items()):
        if side.startswith("tailor"):
            # `bench forward` (prefill 1 x 256) or `bench latency` (the "-long" side: prefill of its prompt).
            prefill = statistics.median(r.get("prefill1TokensPerSecond", r.get("prefillTokensPerSecond")) for r in rs)
            decode = statistics.median(r["decodeTokensPerSecond"] for r in rs)
            weight_bytes = rs[0].get("decodeWeightBytes") or next(
                (r[0]["decodeWeightBytes"] for (s, w), r in runs.items() if s == "tailor" and w == what), None)
        else:
            key = next(k for k in rs[0] if k.startswith("prefill_1x"))
            prefill = statistics.median(r[key] for r in rs)
            decode = statistics.median(r["decode_tok_s"] for r in rs)
            try:
                weight_bytes = gguf_matrix_bytes(rs[0]["gguf"])
            except (OSError, ValueError):
                weight_bytes = None
        summary[(side, what)] = (prefill, decode)
        stream = f"{weight_bytes / 1e6:.0f} MB/token, {decode * weight_bytes / 1e9:.1f} GB/s = " \
                 f"{100 * decode * weight_bytes / bandwidth:.0f}% of memory read" if weight_bytes else "GGUF gone"
        print(f"{side} {what} (n={len(rs)}): prefill {prefill:.1f} tok/s, decode {decode:.1f} tok/s ({stream})")
    for tailor, suffix in [("tailor", ""), ("tailor-long", "-long")]:
        peers = sorted({side for side, _ in summary if side.startswith("llamacpp") and side.endswith("-long") == bool(suffix)})
        for ours, theirs in [("bf16", "bf16"), ("int8", "q8_0")]:
            for peer in peers:
                if (tailor, ours) in summary and (peer, theirs) in summary:
                    (p1, d1), (p2, d2) = summary[(tailor, ours)], summary[(peer, theirs)]
                    print(f"{tailor} {ours} / {peer} {theirs}: prefill {p1 / p2:.2f}x, decode {d1 / d2:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1])
