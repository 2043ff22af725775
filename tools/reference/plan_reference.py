#!/usr/bin/env python3
"""Fixtures for TailorPlan: parameter counts of the presets, PEFT target-module matching, and the bytes autograd
saves per decoder layer (the activation formula's reference).

Pinned versions (see requirements-plan.txt): torch 2.15.0, transformers 5.24.0, peft 0.21.2.

Run:  /opt/refvenv/bin/python tools/reference/plan_reference.py
Writes Tests/TailorPlanTests/Fixtures/{presets.json, targets.json, activations.json}.

- presets.json: every preset config (transcribed from the published config.json files; inputs) instantiated by
  transformers on the meta device; parameter count and the linear modules of layer 0 with (in, out) come from
  transformers, not from our formula.
- targets.json: a 2-layer tiny Llama wrapped by PEFT get_peft_model with several target_modules specs; the list of
  module names that received lora_A (or the ValueError PEFT raises when nothing matches).
- smollm2-135m-config.json: the SmolLM2-135M preset as a config.json written by transformers' save_pretrained,
  for the ModelConfig → ModelShape path.
- activations.json: SmolLM2-135M dimensions with 2 and 4 layers, bf16 weights, random init, batch 2 x 128 tokens;
  the bytes of every distinct non-parameter storage that autograd saves during the forward (saved_tensors_hooks),
  for full fine-tuning and LoRA r=8 all-linear, eager and SDPA attention. Per layer = (S4 - S2) / 2.
"""
import importlib.metadata
import json
import os
import pathlib
import sys

import torch

PINNED = {"torch": "2.15.0", "transformers": "5.24.0", "peft": "0.21.2"}
ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "TailorPlanTests" / "Fixtures"

# name: (model_type, hidden, intermediate, layers, heads, kv_heads, vocab, tied, head_dim or None)
PRESETS = {
    "llama-2-7b": ("llama", 4096, 11008, 32, 32, 32, 32000, False, None),
    "llama-2-13b": ("llama", 5120, 13824, 40, 40, 40, 32000, False, None),
    "llama-2-70b": ("llama", 8192, 28672, 80, 64, 8, 32000, False, None),
    "llama-3-8b": ("llama", 4096, 14336, 32, 32, 8, 128256, False, None),
    "llama-3.1-8b": ("llama", 4096, 14336, 32, 32, 8, 128256, False, None),
    "llama-3-70b": ("llama", 8192, 28672, 80, 64, 8, 128256, False, None),
    "llama-3.1-70b": ("llama", 8192, 28672, 80, 64, 8, 128256, False, None),
    "llama-3.2-1b": ("llama", 2048, 8192, 16, 32, 8, 128256, True, 64),
    "llama-3.2-3b": ("llama", 3072, 8192, 28, 24, 8, 128256, True, 128),
    "qwen2-0.5b": ("qwen2", 896, 4864, 24, 14, 2, 151936, True, None),
    "qwen2-1.5b": ("qwen2", 1536, 8960, 28, 12, 2, 151936, True, None),
    "qwen2-7b": ("qwen2", 3584, 18944, 28, 28, 4, 152064, False, None),
    "qwen2-72b": ("qwen2", 8192, 29568, 80, 64, 8, 152064, False, None),
    "qwen2.5-0.5b": ("qwen2", 896, 4864, 24, 14, 2, 151936, True, None),
    "qwen2.5-1.5b": ("qwen2", 1536, 8960, 28, 12, 2, 151936, True, None),
    "qwen2.5-3b": ("qwen2", 2048, 11008, 36, 16, 2, 151936, True, None),
    "qwen2.5-7b": ("qwen2", 3584, 18944, 28, 28, 4, 152064, False, None),
    "qwen2.5-14b": ("qwen2", 5120, 13824, 48, 40, 8, 152064, False, None),
    "qwen2.5-32b": ("qwen2", 5120, 27648, 64, 40, 8, 152064, False, None),
    "qwen2.5-72b": ("qwen2", 8192, 29568, 80, 64, 8, 152064, False, None),
    "mistral-7b-v0.1": ("mistral", 4096, 14336, 32, 32, 8, 32000, False, None),
    "mistral-7b-v0.3": ("mistral", 4096, 14336, 32, 32, 8, 32768, False, None),
    "smollm2-135m": ("llama", 576, 1536, 30, 9, 3, 49152, True, None),
    "smollm2-360m": ("llama", 960, 2560, 32, 15, 5, 49152, True, None),
    "smollm2-1.7b": ("llama", 2048, 8192, 24, 32, 32, 49152, True, None),
    "phi-3-mini-4k": ("phi3", 3072, 8192, 32, 32, 32, 32064, False, None),
    "phi-3-mini-128k": ("phi3", 3072, 8192, 32, 32, 32, 32064, False, None),
    "phi-3.5-mini": ("phi3", 3072, 8192, 32, 32, 32, 32064, False, None),
    "gemma-2-2b": ("gemma2", 2304, 9216, 26, 8, 4, 256000, True, 256),
    "gemma-2-9b": ("gemma2", 3584, 14336, 42, 16, 8, 256000, True, 256),
    "gemma-2-27b": ("gemma2", 4608, 36864, 46, 32, 16, 256000, True, 128),
}


def check_versions():
    bad = {n: importlib.metadata.version(n) for n, v in PINNED.items()
           if not importlib.metadata.version(n).startswith(v)}
    if bad and not os.environ.get("TAILOR_REF_ANY_VERSION"):
        sys.exit(f"version mismatch: {bad} (want {PINNED}); set TAILOR_REF_ANY_VERSION=1 to override")


def make_config(model_type, hidden, inter, layers, heads, kv, vocab, tied, head_dim, attn="sdpa"):
    from transformers import Gemma2Config, LlamaConfig, MistralConfig, Phi3Config, Qwen2Config
    cls = {"llama": LlamaConfig, "qwen2": Qwen2Config, "mistral": MistralConfig, "phi3": Phi3Config,
           "gemma2": Gemma2Config}[model_type]
    kwargs = dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                  num_attention_heads=heads, num_key_value_heads=kv, tie_word_embeddings=tied)
    if head_dim is not None:
        kwargs["head_dim"] = head_dim
    cfg = cls(**kwargs)
    # Gemma 2 has no sdpa path (soft-capping); eager builds the same modules.
    cfg._attn_implementation = "eager" if model_type == "gemma2" else attn
    return cfg


def presets():
    from transformers import AutoModelForCausalLM
    out = {}
    for name, spec in PRESETS.items():
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(make_config(*spec))
        count = sum(p.numel() for p in model.parameters())  # parameters() yields a tied weight once
        linears = [(n, m.in_features, m.out_features) for n, m in model.named_modules()
                   if isinstance(m, torch.nn.Linear) and (".layers.0." in n or n == "lm_head")]
        out[name] = {"parameters": count, "linears": [{"name": n, "in": i, "out": o} for n, i, o in linears]}
        print(f"{name}: {count:,}")
    return out


def targets():
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    specs = {
        "list_names": {"target_modules": ["q_proj", "v_proj"]},
        "list_dotted_suffix": {"target_modules": ["self_attn.o_proj", "mlp.down_proj"]},
        "list_full_name": {"target_modules": ["model.layers.1.mlp.up_proj"]},
        "list_partial_typo": {"target_modules": ["qproj", "k_proj"]},
        "list_partial_word": {"target_modules": ["proj"]},
        "list_lm_head": {"target_modules": ["lm_head"]},
        "regex_qv": {"target_modules": r".*\.(q|v)_proj"},
        "regex_layer1": {"target_modules": r"model\.layers\.1\.mlp\..*_proj"},
        "regex_plain_name": {"target_modules": "q_proj"},
        "all_linear": {"target_modules": "all-linear"},
        "all_linear_upper": {"target_modules": "ALL-LINEAR"},
        "all_linear_exclude": {"target_modules": "all-linear", "exclude_modules": ["down_proj"]},
        "list_exclude": {"target_modules": ["q_proj", "k_proj"], "exclude_modules": ["model.layers.0.self_attn.k_proj"]},
    }
    out = {}
    for key, kwargs in specs.items():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(make_config("llama", 64, 128, 2, 4, 2, 256, False, None))
        try:
            peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, **kwargs))
            names = sorted(n[len("base_model.model."):] for n, m in peft_model.named_modules()
                           if hasattr(m, "lora_A") and len(getattr(m, "lora_A", {})) > 0)
            trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
            out[key] = {"spec": kwargs, "matched": names, "trainable": trainable, "error": None}
        except ValueError as error:
            out[key] = {"spec": kwargs, "matched": [], "trainable": 0, "error": str(error).splitlines()[0][:200]}
        print(f"{key}: {out[key]['matched'] if out[key]['error'] is None else 'ValueError'}")
    plain = AutoModelForCausalLM.from_config(make_config("llama", 64, 128, 2, 4, 2, 256, False, None))
    linears = [(n, m.in_features, m.out_features) for n, m in plain.named_modules() if isinstance(m, torch.nn.Linear)]
    return {"model": {"hidden": 64, "intermediate": 128, "layers": 2, "heads": 4, "kv_heads": 2, "vocab": 256},
            "linears": [n for n, _, _ in linears], "cases": out}


def saved_bytes(layers, method, attn, batch, seq):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(make_config("llama", 576, 1536, layers, 9, 3, 49152, True, None, attn))
    model = model.to(torch.bfloat16)
    if method == "lora":
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear"))
    model.train()
    param_ptrs = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in param_ptrs:
            seen[s.data_ptr()] = s.nbytes()
        return t

    ids = torch.randint(0, 49152, (batch, seq))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    return sum(seen.values())


def activations():
    batch, seq = 2, 128
    out = {"batch": batch, "seq": seq, "dims": "smollm2-135m", "dtype": "bfloat16", "cases": {}}
    for method in ("full", "lora"):
        for attn in ("eager", "sdpa"):
            s2 = saved_bytes(2, method, attn, batch, seq)
            s4 = saved_bytes(4, method, attn, batch, seq)
            per_layer = (s4 - s2) // 2
            out["cases"][f"{method}_{attn}"] = {"saved2": s2, "saved4": s4, "perLayer": per_layer,
                                               "rest": s2 - 2 * per_layer}
            print(f"{method} {attn}: per layer {per_layer:,} bytes, rest {s2 - 2 * per_layer:,}")
    return out


def write_config():
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        make_config(*PRESETS["smollm2-135m"]).save_pretrained(folder)
        (OUT / "smollm2-135m-config.json").write_text(pathlib.Path(folder, "config.json").read_text())


def main():
    check_versions()
    OUT.mkdir(parents=True, exist_ok=True)
    write_config()
    versions = {n: importlib.metadata.version(n) for n in PINNED}
    for name, make in (("presets.json", presets), ("targets.json", targets), ("activations.json", activations)):
        data = {"versions": versions, "data": make()}
        (OUT / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
