"""PyTorch's causal attention forward + backward on the shapes of `tailor bench attention` (2 threads, f32):
torch.nn.functional.scaled_dot_product_attention with is_causal and enable_gqa (its CPU flash kernel). Prints one JSON
line per sequence length: {"kernel": "torch-sdpa", "sequenceLength": T, "forwardSeconds": ..., "backwardSeconds": ...}
(medians of --rounds).
Usage: /opt/refvenv/bin/python tools/bench/torch_attention.py [--batch 8] [--lengths 256,1024] [--rounds 5]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lengths", default="256,1024")
    p.add_argument("--heads", type=int, default=9)
    p.add_argument("--kv-heads", type=int, default=3)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    for t in [int(x) for x in a.lengths.split(",")]:
        q = torch.randn(a.batch, a.heads, t, a.head_dim, requires_grad=True)
        k = torch.randn(a.batch, a.kv_heads, t, a.head_dim, requires_grad=True)
        v = torch.randn(a.batch, a.kv_heads, t, a.head_dim, requires_grad=True)
        d_out = torch.randn(a.batch, a.heads, t, a.head_dim)
        forward, backward = [], []
        for r in range(a.rounds + 1):   # the first is a warm-up
            start = time.perf_counter()
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            mid = time.perf_counter()
            out.backward(d_out)
            end = time.perf_counter()
            q.grad = k.grad = v.grad = None
            if r > 0:
                forward.append(mid - start)
                backward.append(end - mid)
        print(json.dumps({"kernel": "torch-sdpa", "batch": a.batch, "sequenceLength": t, "heads": a.heads,
                          "kvHeads": a.kv_heads, "headDim": a.head_dim, "forwardSeconds": statistics.median(forward),
                          "backwardSeconds": statistics.median(backward), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
