"""Shared definitions for the TailorModels reference fixtures: tiny model configs, seeded init, the fixed batch.

Pinned versions (checked at import; see requirements-models.txt):
    torch 2.15.0, transformers 5.24.0, peft 0.21.2, safetensors 0.8.0, gguf 0.19.0
Run every models_*.py script with /opt/refvenv/bin/python from the repository root.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
import sys

import torch

PINNED = {
    "torch": "2.15.0",
    "transformers": "5.24.0",
    "peft": "0.21.2",
    "safetensors": "0.8.0",
    "gguf": "0.19.0",
}

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "Tests" / "TailorModelsTests" / "Fixtures"

TINY_MODELS = ("tiny-llama", "tiny-qwen2", "tiny-llama3-rope", "tiny-qwen3", "tiny-phi3", "tiny-mistral-swa", "tiny-gemma2", "tiny-gemma3")


def selected(names):
    """The models named on the command line (all of `names` when none is), e.g. `models_forward.py tiny-qwen3`."""
    chosen = [a for a in sys.argv[1:] if not a.startswith("-")]
    unknown = [a for a in chosen if a not in names]
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; known: {list(names)}")
    return tuple(chosen) or tuple(names)

# The fixed batch: B = 3 rows, T = 11, right padding with PAD_ID; row lengths 11, 7, 4.
BATCH_LENGTHS = (11, 7, 4)
SEQ_LEN = 11
PAD_ID = 0


def library_versions() -> dict[str, str]:
    """Installed versions of the pinned libraries (plus numpy and tokenizers, for the record)."""
    names = list(PINNED) + ["numpy", "tokenizers", "accelerate"]
    return {n: importlib.metadata.version(n) for n in names}


def check_versions() -> None:
    """Refuse to write fixtures with other library versions than the pinned ones; fix Python's hash seed.

    PEFT writes adapter_config.json "target_modules" in Python set order, which depends on the string hash seed;
    re-executing with PYTHONHASHSEED=0 makes the fixture files byte-reproducible.
    """
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    installed = library_versions()
    bad = {n: (installed[n], v) for n, v in PINNED.items() if not installed[n].startswith(v)}
    if bad and not os.environ.get("TAILOR_REF_ANY_VERSION"):
        lines = ", ".join(f"{n} {have} (want {want})" for n, (have, want) in bad.items())
        sys.exit(f"version mismatch: {lines}; set TAILOR_REF_ANY_VERSION=1 to override")


def make_config(name: str):
    """The transformers config of one tiny model (f32, eager attention, no dropout)."""
    from transformers import Gemma2Config, Gemma3TextConfig, LlamaConfig, MistralConfig, Phi3Config, Qwen2Config, Qwen3Config

    common = dict(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
        attention_dropout=0.0,
        pad_token_id=PAD_ID,
        bos_token_id=1,
        eos_token_id=2,
        dtype="float32",
    )
    if name == "tiny-llama":
        cfg = LlamaConfig(
            **common,
            max_position_embeddings=128,
            rms_norm_eps=1e-5,
            tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        )
    elif name == "tiny-qwen2":
        cfg = Qwen2Config(
            **common,
            max_position_embeddings=128,
            rms_norm_eps=1e-6,
            tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        )
    elif name == "tiny-qwen3":
        # Qwen3: per-head q_norm/k_norm before RoPE, no q/k/v biases, and head_dim 32 with 4 heads, so the attention
        # width (128) differs from hidden_size (64) as in the released models (Qwen3-0.6B: 16 × 128 vs 1024).
        cfg = Qwen3Config(
            **common,
            head_dim=32,
            max_position_embeddings=128,
            rms_norm_eps=1e-6,
            tie_word_embeddings=True,
            attention_bias=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        )
    elif name == "tiny-phi3":
        # Phi-3: fused qkv_proj and gate_up_proj, untied head, LongRoPE. original_max_position_embeddings 8 < the
        # batch's 11 positions, so the long factors are the ones used and the attention factor is
        # sqrt(1 + ln(128/8)/ln(8)) ≈ 1.53; head_dim 16 gives 8 distinct short and long factors.
        cfg = Phi3Config(
            **common,
            max_position_embeddings=128,
            original_max_position_embeddings=8,
            rms_norm_eps=1e-5,
            tie_word_embeddings=False,
            rope_parameters={
                "rope_type": "longrope",
                "rope_theta": 10000.0,
                "short_factor": [1.0, 1.1, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0],
                "long_factor": [1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0],
                "original_max_position_embeddings": 8,
            },
        )
    elif name == "tiny-mistral-swa":
        # Mistral with sliding_window 4 < the batch's 11 positions: each query sees itself and the 3 keys before it
        # (transformers' kv_idx > q_idx - sliding_window), in the full forward, the KV cache and the gradients.
        cfg = MistralConfig(
            **common,
            max_position_embeddings=128,
            rms_norm_eps=1e-5,
            tie_word_embeddings=False,
            sliding_window=4,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        )
    elif name == "tiny-gemma2":
        # Gemma 2: embeddings scaled by sqrt(64), (1 + w) norms before and after attention and MLP, GeGLU (tanh GELU),
        # head_dim 32 != 64 / 4, scaling query_pre_attn_scalar**-0.5 = 24**-0.5 (not head_dim's), tied head.
        # Layer 0 slides (window 4 < the batch's 11 positions), layer 1 is global (transformers' layer_types). The
        # soft-caps are small (attention 4, final 3; the released models use 50 and 30) so that tanh is far from
        # linear on these random scores and logits: a missing or wrong cap moves logits by far more than 1e-4.
        gemma = {k: v for k, v in common.items() if k != "hidden_act"}
        cfg = Gemma2Config(
            **gemma,
            hidden_activation="gelu_pytorch_tanh",
            head_dim=32,
            query_pre_attn_scalar=24,
            sliding_window=4,
            attn_logit_softcapping=4.0,
            final_logit_softcapping=3.0,
            max_position_embeddings=128,
            rms_norm_eps=1e-6,
            tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        )
    elif name == "tiny-gemma3":
        # Gemma 3 (text): Gemma 2's block without soft-caps, plus (1 + w) q_norm/k_norm per head before RoPE, 5 local
        # layers to 1 global (6 layers: 0-4 slide with window 4, 5 is global), and two RoPE bases: 10000 on local
        # layers, 1e6 with linear scaling (factor 2) on the global one, as the released 4B+ models.
        gemma = {k: v for k, v in common.items() if k != "hidden_act"}
        gemma["num_hidden_layers"] = 6
        cfg = Gemma3TextConfig(
            **gemma,
            hidden_activation="gelu_pytorch_tanh",
            head_dim=32,
            query_pre_attn_scalar=24,
            sliding_window=4,
            max_position_embeddings=128,
            rms_norm_eps=1e-6,
            tie_word_embeddings=True,
            rope_parameters={
                "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                "full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1000000.0},
            },
        )
    elif name == "tiny-llama3-rope":
        # head_dim 16, theta 5e5: wavelengths 6.3 (< high_wl 16, kept), 32.6 (smoothed), >= 168 (> low_wl 64,
        # divided by 8), so all three llama3 regimes are exercised.
        cfg = LlamaConfig(
            **common,
            max_position_embeddings=256,
            rms_norm_eps=1e-5,
            tie_word_embeddings=True,
            rope_parameters={
                "rope_type": "llama3",
                "rope_theta": 500000.0,
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 64,
            },
        )
    else:
        raise ValueError(f"unknown tiny model {name!r}")
    cfg._attn_implementation = "eager"
    return cfg


def build_model(name: str, seed: int = 0):
    """A tiny model with seeded, deliberately large random weights (so logits and gradients are not tiny)."""
    from transformers import AutoModelForCausalLM

    cfg = make_config(name)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    gen = torch.Generator().manual_seed(1000 + seed)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("embed_tokens.weight"):
                # Tied: the same matrix is the output head, so keep logits O(1) there.
                std = 0.2 if cfg.tie_word_embeddings else 1.0
                p.copy_(torch.randn(p.shape, generator=gen) * std)
            elif "norm" in pname:
                # Gemma's norms multiply by (1 + w): w near 0 gives the same scale as Llama's w near 1.
                offset = 0.0 if cfg.model_type.startswith("gemma") else 1.0
                p.copy_(offset + 0.1 * torch.randn(p.shape, generator=gen))
            elif pname.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    model.eval()
    return model


def load_model(name: str):
    """The tiny model as saved by models_forward.py (f32, eager attention)."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        FIXTURES / name, attn_implementation="eager", dtype=torch.float32
    )


def fixed_batch(vocab_size: int = 256, seed: int = 7) -> dict[str, torch.Tensor]:
    """input_ids / attention_mask / labels [3, 11], right-padded; labels -100 at padding and at row 0, t < 2."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.full((len(BATCH_LENGTHS), SEQ_LEN), PAD_ID, dtype=torch.int64)
    mask = torch.zeros_like(ids)
    for row, n in enumerate(BATCH_LENGTHS):
        ids[row, :n] = torch.randint(1, vocab_size, (n,), generator=gen)
        mask[row, :n] = 1
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, :2] = -100
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def lora_config():
    """The LoRA configuration of every LoRA fixture: r 4, alpha 8, dropout 0, all-linear."""
    from peft import LoraConfig

    return LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


def peft_tensor_name(param_name: str, adapter: str = "default") -> str:
    """PEFT's saved tensor name: drop the adapter name ('...lora_A.default.weight' -> '...lora_A.weight')."""
    return param_name.replace(f".{adapter}.", ".")


def save_fixture(tensors: dict[str, torch.Tensor], path: pathlib.Path, info: dict) -> None:
    """save_file with ONE metadata key: safetensors serialises several keys in hash-map order (not reproducible)."""
    from safetensors.torch import save_file

    info = dict(info, versions=library_versions())
    save_file(tensors, path, metadata={"reference": json.dumps(info, sort_keys=True)})
    path.chmod(0o644)


def sha256(path: pathlib.Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
