"""tiny-gemma2 as GGUF, written by gguf-py the way llama.cpp's convert_hf_to_gguf.py writes a Gemma 2 model.

Made with the versions in requirements-gemma2.txt.
Usage (repository root):
  /opt/refvenv/bin/python tools/reference/models_gemma2_gguf.py
      writes Tests/TailorModelsTests/Fixtures/tiny-gemma2/gguf-py-f32.gguf (architecture "gemma2", every tensor
      f32, llama.cpp's names: ffn_norm for pre_feedforward_layernorm, post_attention_norm, post_ffw_norm; every norm
      weight stored as 1 + w as the converter's Gemma2Model writes it; no row permutation; tied output omitted;
      attn_logit_softcapping, final_logit_softcapping, sliding_window as the converter writes them). The converter
      writes no attention scale: llama.cpp derives 1/sqrt(head_dim). tiny-gemma2's query_pre_attn_scalar (24) is
      not its head_dim (32), so this file also carries gguf-py's attention.scale key, which Tailor reads.
  /opt/refvenv/bin/python tools/reference/models_gemma2_gguf.py --llamacpp FILE.gguf
      evaluates every unpadded row of reference.safetensors' batch in llama.cpp and prints top-1 agreement with
      transformers' logits and the largest logit difference (exit 1 below 99% agreement)
  /opt/refvenv/bin/python tools/reference/models_gemma2_gguf.py --llamacpp FILE.gguf --hf FOLDER
      the same against transformers' logits of FOLDER (see check_llamacpp_against: llama.cpp's own score scale)
"""
import json
import pathlib
import sys

import numpy as np
from safetensors.numpy import load_file

import models_qwen3_gguf as qwen3

FIX = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "TailorModelsTests" / "Fixtures" / "tiny-gemma2"
BLOCK = {"input_layernorm": "attn_norm", "post_attention_layernorm": "post_attention_norm",
         "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
         "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
         "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
         "mlp.down_proj": "ffn_down", "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"}


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    _, _, layer, rest = hf.split(".", 3)
    module, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{BLOCK[module]}.{kind}"


def write(fix=FIX, arch="gemma2"):
    """The converter's Gemma2Model (arch "gemma2") or Gemma3Model (arch "gemma3": q/k norms, RoPE base of the
    global layers and its linear scaling, no soft-caps; llama.cpp's local base is its default 10000, not written)."""
    import gguf

    cfg = json.loads((fix / "config.json").read_text())
    tensors = load_file(fix / "model.safetensors")
    out = fix / "gguf-py-f32.gguf"
    w = gguf.GGUFWriter(str(out), arch)
    w.add_type("model")
    w.add_name(fix.name)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_key_length(cfg["head_dim"])
    w.add_value_length(cfg["head_dim"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    if arch == "gemma2":
        w.add_attn_logit_softcapping(cfg["attn_logit_softcapping"])
        w.add_final_logit_softcapping(cfg["final_logit_softcapping"])
    else:
        rope = cfg["rope_parameters"]["full_attention"]
        w.add_rope_freq_base(rope["rope_theta"])
        if rope.get("rope_type") == "linear":
            w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            w.add_rope_scaling_factor(rope["factor"])
    w.add_sliding_window(cfg["sliding_window"])
    w.add_attention_scale(cfg["query_pre_attn_scalar"] ** -0.5)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(qwen3.byte_tokens())
    w.add_token_types([gguf.TokenType.NORMAL] * 256)
    w.add_token_merges(["a b"])   # llama.cpp refuses a BPE vocabulary without merges; ids are fed directly
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    w.add_pad_token_id(cfg["pad_token_id"])
    for hf in sorted(tensors, key=lambda n: (n.count("layers"), n)):
        data = tensors[hf].astype(np.float32)
        if hf.endswith("norm.weight"):
            data = data + np.float32(1)   # convert_hf_to_gguf's Gemma2Model: llama.cpp multiplies by 1 + w
        w.add_tensor(gguf_name(hf), data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out.chmod(0o644)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(tensors)} tensors)")


def check_llamacpp_against(path, hf_dir):
    """llama.cpp on FILE against transformers' logits of the Hugging Face folder `hf_dir` on the fixture's batch.
    llama.cpp derives Gemma's score scale from head_dim and reads no attention.scale key, so its check needs a model
    whose query_pre_attn_scalar follows that rule (tiny-gemma2's 24 does not): copy the fixture, set the scalar to
    head_dim in config.json, export that folder with Tailor and pass the folder here."""
    import torch
    from transformers import AutoModelForCausalLM

    ref = load_file(FIX / "reference.safetensors")
    model = AutoModelForCausalLM.from_pretrained(hf_dir, attn_implementation="eager", dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(ref["input_ids"]),
                       attention_mask=torch.from_numpy(ref["attention_mask"])).logits.float().numpy()
    reference = dict(ref, logits=logits)
    qwen3.load_file = lambda _: reference
    qwen3.check_llamacpp(path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--llamacpp":
        qwen3.FIX = FIX
        qwen3.check_llamacpp(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "--llamacpp" and sys.argv[3] == "--hf":
        check_llamacpp_against(sys.argv[2], sys.argv[4])
    else:
        write()
