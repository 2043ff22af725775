#!/usr/bin/env python3
"""Fixtures for TailorFormats' safetensors reader and writer (spec §3).

Pinned versions (see requirements-formats.txt): safetensors 0.8.0, torch 2.15.0, transformers 5.24.0,
huggingface_hub 2.4.0.

Run:  /opt/refvenv/bin/python tools/reference/formats_safetensors.py
Writes Tests/TailorFormatsTests/Fixtures/safetensors/:
  mixed.safetensors        F32/BF16/F16/I64/U8, a scalar, an empty tensor, names needing JSON escaping,
                           metadata {"format": "pt"}: the Swift writer must reproduce these bytes exactly
  no_metadata.safetensors  metadata None (no __metadata__ key), odd header length (padding)
  mixed_values.json        each tensor's values as numbers (f32 for floats), dtype and shape, read independently
  tiny_llama_sharded/      transformers save_pretrained of a tiny LlamaForCausalLM with max_shard_size="20KB":
                           config.json, model-0000i-of-0000n.safetensors, model.safetensors.index.json
  tiny_llama_sharded_order.json  the state-dict order the shards were cut from (the index sorts its keys)
  tiny_llama_single/       the same model saved as one model.safetensors (tied embeddings: no lm_head.weight)
"""
import json
import os
import shutil

import numpy as np
import safetensors
import torch
import transformers
from safetensors.torch import save_file

PINNED = {"safetensors": "0.8.0", "torch": "2.15.0", "transformers": "5.24.0"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "TailorFormatsTests", "Fixtures", "safetensors")


def check_versions():
    found = {"safetensors": safetensors.__version__, "torch": torch.__version__.split("+")[0],
             "transformers": transformers.__version__}
    for name, want in PINNED.items():
        if found[name] != want:
            print(f"warning: {name} {found[name]} differs from pinned {want}")


def values_entry(t):
    flat = t.reshape(-1)
    if t.dtype in (torch.float32, torch.bfloat16, torch.float16):
        vals = [float(v) for v in flat.float().tolist()]
    else:
        vals = [int(v) for v in flat.tolist()]
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": vals}


def main():
    check_versions()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    g = torch.Generator().manual_seed(1234)
    mixed = {
        "model.weight": torch.randn(3, 4, generator=g),
        "b.bf16": torch.randn(2, 5, generator=g).to(torch.bfloat16),
        "a.f16": torch.randn(7, generator=g).to(torch.float16),
        "index.i64": torch.tensor([[-3, 2 ** 40], [0, 7]], dtype=torch.int64),
        "bytes.u8": torch.tensor([0, 1, 127, 200, 255], dtype=torch.uint8),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        'quote"name': torch.randn(2, generator=g),
        "back\\slash": torch.randn(1, generator=g),
        "tab\tand\nnewline": torch.randn(2, generator=g),
        "ctrl\x01char": torch.randn(1, generator=g),
        "unicode_é_名": torch.randn(3, generator=g).to(torch.bfloat16),
    }
    save_file(mixed, os.path.join(OUT, "mixed.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(OUT, "mixed_values.json"), "w") as f:
        json.dump({name: values_entry(t) for name, t in mixed.items()}, f, indent=1, sort_keys=True)

    plain = {"x": torch.arange(5, dtype=torch.float32), "yy": torch.ones(3, 3, dtype=torch.float16)}
    save_file(plain, os.path.join(OUT, "no_metadata.safetensors"))

    # A tiny Llama saved by transformers: sharded and single-file, with tied embeddings.
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=48, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                      tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
    model = transformers.LlamaForCausalLM(config).eval()
    order = [k for k in model.state_dict().keys() if k != "lm_head.weight"]
    model.save_pretrained(os.path.join(OUT, "tiny_llama_sharded"), max_shard_size="20KB")
    model.save_pretrained(os.path.join(OUT, "tiny_llama_single"))
    with open(os.path.join(OUT, "tiny_llama_sharded_order.json"), "w") as f:
        json.dump({"order": order, "max_shard_bytes": 20_000}, f, indent=1)
    for folder in ("tiny_llama_sharded", "tiny_llama_single"):
        print(folder, sorted(os.listdir(os.path.join(OUT, folder))))


if __name__ == "__main__":
    main()
