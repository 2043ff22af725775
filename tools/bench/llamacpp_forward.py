"""llama.cpp inference benchmark through llama-cpp-python: prefill tokens/s and greedy decode tokens/s on a GGUF.

The counterpart of `tailor bench forward` for the GGUFs `tailor export gguf` writes (bf16, q8_0).
Versions used: llama-cpp-python built from source into /opt/refvenv (2026-12-06), numpy from the same venv.
Usage: /opt/refvenv/bin/python tools/bench/llamacpp_forward.py --gguf MODEL.gguf [--threads 2] [--repeats 3]
       [--sequence-length 256] [--decode-tokens 64] [--decode-prompt 16]
Prints one JSON line:
    prefill_1xT_tok_s   T / seconds of evaluating T random tokens in one batch on an empty cache (median)
    decode_tok_s        new tokens / seconds of the token-by-token greedy loop after a --decode-prompt-token prompt
                        (default 16; a long prompt measures decoding against a long KV cache) (median)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import numpy as np
from llama_cpp import Llama


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--decode-tokens", type=int, default=64)
    parser.add_argument("--decode-prompt", type=int, default=16)
    args = parser.parse_args()

    context = max(1024, args.sequence_length, args.decode_prompt + args.decode_tokens)
    llm = Llama(model_path=args.gguf, n_ctx=context, n_batch=512, n_ubatch=512, n_threads=args.threads,
                n_threads_batch=args.threads, verbose=False)
    rng = random.Random(42)
    vocab = llm.n_vocab()

    def tokens(count: int) -> list[int]:
        return [rng.randrange(3, vocab) for _ in range(count)]

    prefill = []
    llm.reset()
    llm.eval(tokens(16))  # warm-up
    for _ in range(args.repeats):
        ids = tokens(args.sequence_length)
        llm.reset()
        start = time.perf_counter()
        llm.eval(ids)
        prefill.append(args.sequence_length / (time.perf_counter() - start))

    decode = []
    for _ in range(args.repeats):
        llm.reset()
        llm.eval(tokens(args.decode_prompt))
        start = time.perf_counter()
        for _ in range(args.decode_tokens):
            # The last evaluated token's logits (llm.scores is only filled with logits_all=True).
            nxt = int(np.argmax(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,))))
            llm.eval([nxt])
        decode.append(args.decode_tokens / (time.perf_counter() - start))

    print(json.dumps({"gguf": args.gguf, "threads": args.threads, "decode_prompt": args.decode_prompt,
                      f"prefill_1x{args.sequence_length}_tok_s": statistics.median(prefill),
                      "decode_tok_s": statistics.median(decode), "prefill_all": prefill, "decode_all": decode}))


if __name__ == "__main__":
    main()
