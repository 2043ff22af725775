"""Matrix-product ceilings of this machine, measured the way a peer reaches them: torch.matmul with 2 threads on
SmolLM2-sized shapes (M = 1024 rows, K x N = 576 x 1536 and 1536 x 576), f32 (MKL; run with the tuned preload) and
bf16 (oneDNN). Prints one JSON line: {"f32_gflops": ..., "bf16_gflops": ...} (best of 5 x 20 products each).
Usage: LD_PRELOAD="$(tools/bench/tuned-torch-env.sh)" /opt/refvenv/bin/python tools/bench/ceiling.py [--f32-only]
"""
import json
import sys
import time

import torch


def gflops(dtype: torch.dtype) -> float:
    best = 0.0
    shapes = [(1024, 576, 1536), (1024, 1536, 576), (1024, 576, 576)]
    mats = [(torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)) for m, k, n in shapes]
    for a, b in mats:
        torch.matmul(a, b)
    for _ in range(5):
        start = time.perf_counter()
        flops = 0
        for _ in range(20):
            for (a, b), (m, k, n) in zip(mats, shapes):
                torch.matmul(a, b)
                flops += 2 * m * k * n
        best = max(best, flops / (time.perf_counter() - start) / 1e9)
    return best


if __name__ == "__main__":
    torch.set_num_threads(2)
    result = {"f32_gflops": round(gflops(torch.float32), 1)}
    if "--f32-only" not in sys.argv:   # bf16 without bf16 dot products is slow and of no use to f32-only benchmarks
        result["bf16_gflops"] = round(gflops(torch.bfloat16), 1)
    print(json.dumps(result))
