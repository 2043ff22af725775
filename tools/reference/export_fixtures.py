"""Reference fixtures for TailorExport (merge and GGUF export).

Pinned versions: torch 2.15.0, transformers 5.24.0, peft 0.21.2, safetensors 0.8.0, gguf 0.19.0
(see requirements-export.txt). Run from the repository root with /opt/refvenv/bin/python.

  export_fixtures.py adapters   writes, per tiny model, a PEFT adapter with nonzero lora_B (seeded) and PEFT's
                                merge_and_unload weights (f32) + base+adapter logits on fixed token sequences.
  export_fixtures.py check DIR  loads Tailor's merged folders DIR/<model>-<dtype> with transformers and records their
                                logits (transformers' view of Tailor's output) in transformers_check.json, and writes
                                gguf-py's encoding (expected-q8_0.gguf, expected-q4_0.gguf) of every tensor of
                                DIR/<model>-f32: the tensor set Tailor's GGUF export must equal byte for byte.

Order: (1) `adapters`; (2) for m in tiny-llama tiny-qwen2, d in f32 bf16:
  tailor merge --model Tests/TailorExportTests/Fixtures/$m/base --adapter Tests/TailorExportTests/Fixtures/$m/adapter \
               --out DIR/$m-$d --dtype $d
(3) `check DIR`. The base folders are copies of Tests/TailorModelsTests/Fixtures/<model> (config, weights).
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from models_common import check_versions  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = REPO / "Tests" / "TailorModelsTests" / "Fixtures"
OUT = REPO / "Tests" / "TailorExportTests" / "Fixtures"
TINY = ("tiny-llama", "tiny-qwen2")
SEQUENCES = [[1, 17, 42, 99, 3, 250, 7, 64, 128, 5, 200, 33], [1, 2, 3, 4, 5, 6, 7, 8], [255, 0, 12, 77, 140, 9]]


def make_adapter(name: str):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(OUT / name / "base", dtype=torch.float32)  # copy of MODELS / name
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules="all-linear", task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:  # PEFT initializes B = 0; a trained adapter has B != 0
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
    model.eval()
    folder = OUT / name / "adapter"
    model.save_pretrained(folder)
    with torch.no_grad():
        logits = [model(torch.tensor([s])).logits[0].tolist() for s in SEQUENCES]
    merged = model.merge_and_unload()
    from safetensors.torch import save_file
    state = {k: v.contiguous() for k, v in merged.state_dict().items() if not (merged.config.tie_word_embeddings and k == "lm_head.weight")}
    save_file(state, str(OUT / name / "peft_merged.safetensors"), metadata={"format": "pt"})
    (OUT / name / "reference_logits.json").write_text(json.dumps({"sequences": SEQUENCES, "logits": logits}))
    print(name, "adapter + merge written")


def check(folder: pathlib.Path):
    from transformers import AutoModelForCausalLM
    import gguf
    result = {}
    for name in TINY:
        for dtype in ("f32", "bf16"):
            d = folder / f"{name}-{dtype}"
            if not d.exists():
                continue
            m = AutoModelForCausalLM.from_pretrained(d)  # dtype from config.json
            m.eval()
            loaded_dtype = str(m.dtype)
            with torch.no_grad():
                native = [m(torch.tensor([s])).logits[0].float() for s in SEQUENCES]
                # Tailor computes in f32 over the stored (bf16) weights; so does transformers after .float().
                m = m.float()
                logits = [m(torch.tensor([s])).logits[0] for s in SEQUENCES]
            native_diff = max(float((a - b).abs().max()) for a, b in zip(native, logits))
            result[f"{name}-{dtype}"] = {"dtype": loaded_dtype, "logits": [x.tolist() for x in logits],
                                         "native_vs_f32_compute_max_diff": native_diff}
        # gguf-py's encoding of the merged f32 tensors (spec §4.5, §4.6): the tensor set Tailor's export must equal
        # byte for byte, written with gguf-py's GGUFWriter (architecture key only; metadata is tested separately).
        d = folder / f"{name}-f32"
        if d.exists():
            from safetensors.numpy import load_file
            cfg = json.loads((d / "config.json").read_text())
            tensors = load_file(str(d / "model.safetensors"))
            order = list(json.loads((d / "model.safetensors").read_bytes()[8:8 + int.from_bytes((d / "model.safetensors").read_bytes()[:8], "little")]).keys())
            for qname, qtype in (("q8_0", gguf.GGMLQuantizationType.Q8_0), ("q4_0", gguf.GGMLQuantizationType.Q4_0)):
                arch = "llama" if cfg["model_type"] == "llama" else "qwen2"
                writer = gguf.GGUFWriter(str(OUT / name / f"expected-{qname}.gguf"), arch)
                for hf in sorted(tensors):
                    arr = tensors[hf].astype(np.float32)
                    gname = hf_to_gguf(hf)
                    if arch == "llama" and "q_proj" in hf:
                        arr = permute(arr, cfg["num_attention_heads"])
                    if arch == "llama" and "k_proj" in hf:
                        arr = permute(arr, cfg["num_key_value_heads"])
                    t = qtype
                    if arr.ndim == 1 or gname.endswith("_norm.weight"):
                        t = gguf.GGMLQuantizationType.F32
                    data = gguf.quants.quantize(arr, t) if t != gguf.GGMLQuantizationType.F32 else arr
                    writer.add_tensor(gname, data, raw_dtype=None if t == gguf.GGMLQuantizationType.F32 else t)
                writer.write_header_to_file()
                writer.write_kv_data_to_file()
                writer.write_tensors_to_file()
                writer.close()
    (OUT / "transformers_check.json").write_text(json.dumps(result))
    print("wrote", OUT / "transformers_check.json")


def permute(w, n_head):  # llama.cpp LlamaModel.permute
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape))


def hf_to_gguf(hf: str) -> str:
    table = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
    if hf in table:
        return table[hf]
    block = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
             "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    parts = hf.split(".")
    module = ".".join(parts[3:-1])
    return f"blk.{parts[2]}.{block[module]}.{parts[-1]}"


if __name__ == "__main__":
    check_versions()
    torch.manual_seed(0)
    if sys.argv[1:2] == ["adapters"]:
        for n in TINY:
            (OUT / n).mkdir(parents=True, exist_ok=True)
            make_adapter(n)
    elif sys.argv[1:2] == ["check"]:
        check(pathlib.Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
