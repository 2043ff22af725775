"""tiny-phi3 as GGUF, written by gguf-py the way llama.cpp's convert_hf_to_gguf.py (Phi3MiniModel) writes a Phi-3
model, and a llama.cpp check of a GGUF file on the fixed batch.

Made with gguf 0.19.0, transformers 5.25.0, torch 2.13.0+cpu (requirements-phi3.txt).
Usage (repository root):
  /opt/refvenv/bin/python tools/reference/models_phi3_gguf.py
      writes Tests/TailorModelsTests/Fixtures/tiny-phi3/gguf-py-f32.gguf (architecture "phi3", every tensor f32,
      llama.cpp's names: attn_qkv for the fused qkv_proj, ffn_up for the fused gate_up_proj (gate rows first), no
      row permutation; LongRoPE as rope_factors_long/short.weight plus rope.scaling.original_context_length and
      rope.scaling.attn_factor; sliding_window 0 (none); a 256-token byte-level "gpt2" vocabulary)
  /opt/refvenv/bin/python tools/reference/models_phi3_gguf.py --llamacpp FILE.gguf
      evaluates every unpadded row of reference.safetensors' batch in llama.cpp and prints top-1 agreement with
      transformers' logits and the largest logit difference (exit 1 below 99% agreement)
"""
import json
import math
import pathlib
import sys

import numpy as np
from safetensors.numpy import load_file

FIX = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "TailorModelsTests" / "Fixtures" / "tiny-phi3"
BLOCK = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.qkv_proj": "attn_qkv",
         "self_attn.o_proj": "attn_output", "mlp.gate_up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    _, _, layer, rest = hf.split(".", 3)
    module, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{BLOCK[module]}.{kind}"


def byte_tokens():
    """GPT-2's byte → unicode table: 256 single-character tokens."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def write():
    import gguf

    cfg = json.loads((FIX / "config.json").read_text())
    tensors = load_file(FIX / "model.safetensors")
    out = FIX / "gguf-py-f32.gguf"
    w = gguf.GGUFWriter(str(out), "phi3")
    w.add_type("model")
    w.add_name("tiny-phi3")
    rope = cfg["rope_parameters"]
    original = rope["original_max_position_embeddings"]
    n_embd, n_head = cfg["hidden_size"], cfg["num_attention_heads"]
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_rope_scaling_orig_ctx_len(original)
    w.add_embedding_length(n_embd)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_head_count(n_head)
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_rope_freq_base(rope["rope_theta"])
    w.add_sliding_window(cfg.get("sliding_window") or 0)
    # The converter's attention factor: sqrt(1 + ln(scale) / ln(original)), scale = max positions / original.
    scale = cfg["max_position_embeddings"] / original
    w.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(original)) if scale > 1 else 1.0)
    w.add_tensor("rope_factors_long.weight", np.array(rope["long_factor"], dtype=np.float32))
    w.add_tensor("rope_factors_short.weight", np.array(rope["short_factor"], dtype=np.float32))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(byte_tokens())
    w.add_token_types([gguf.TokenType.NORMAL] * 256)
    w.add_token_merges(["a b"])   # llama.cpp refuses a BPE vocabulary without merges; ids are fed directly
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    w.add_pad_token_id(cfg["pad_token_id"])
    for hf in sorted(tensors, key=lambda n: (n.count("layers"), n)):
        w.add_tensor(gguf_name(hf), tensors[hf].astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out.chmod(0o644)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(tensors)} tensors)")


def check_llamacpp(path):
    from llama_cpp import Llama

    ref = load_file(FIX / "reference.safetensors")
    ids, mask, logits = ref["input_ids"], ref["attention_mask"], ref["logits"]
    # f32 KV cache (the default f16 one rounds k and v to 11 bits and flips near-ties of these random logits).
    llm = Llama(model_path=path, n_ctx=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    agree, total, worst = 0, 0, 0.0
    for row in range(ids.shape[0]):
        n = int(mask[row].sum())
        llm.reset()
        llm.eval([int(t) for t in ids[row, :n]])
        ours = np.array(llm.scores[:n])
        want = logits[row, :n]
        agree += int((ours.argmax(-1) == want.argmax(-1)).sum())
        total += n
        worst = max(worst, float(np.abs(ours - want).max()))
    rate = agree / total
    print(f"llama.cpp loaded {path}: top-1 agreement {rate * 100:.1f}% over {total} positions, "
          f"max |Δlogit| {worst:.3g} (max |logit| {np.abs(logits).max():.3g})")
    sys.exit(0 if rate >= 0.99 else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--llamacpp":
        check_llamacpp(sys.argv[2])
    else:
        write()
