#!/usr/bin/env python3
"""Fixtures for TailorFormats' GGUF reader and GGML block codecs (spec §4).

Pinned versions (see requirements-formats.txt): gguf 0.19.0 (gguf-py), numpy 2.x.

Run:  /opt/refvenv/bin/python tools/reference/formats_gguf.py
Writes Tests/TailorFormatsTests/Fixtures/gguf/:
  codecs.json                Q8_0/Q4_0/Q4_1: random f32 blocks (plus the spec §4.2 test vector, a zero block and a
                             block with a magnitude tie) quantized by gguf.quants.quantize and dequantized back;
                             Q4_K/Q6_K: random valid block bytes dequantized by gguf.quants.dequantize
  tiny_llama.gguf            architecture llama, tied embeddings (no output.weight), rope_freqs.weight (llama3 rope),
                             attention biases (q/k biases permuted like their weights),
                             tensors in F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K; q/k rows permuted exactly as
                             llama.cpp's converter does (LlamaModel.permute); metadata of every value type and a
                             nested array
  tiny_llama_expected.safetensors  the HF-named, HF-ordered f32 values each tensor must decode to
  tiny_qwen2.gguf            architecture qwen2, q/k/v biases, untied output.weight, general.alignment 64,
                             linear rope scaling keys (factor 4)
  tiny_qwen2_expected.safetensors
  layout.json                per file, as gguf-py's GGUFReader reads it back: tensor names, type names, shapes,
                             absolute data offsets, byte sizes, and the metadata values
"""
import json
import os
import shutil

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from safetensors.numpy import save_file

PINNED = {"gguf": "0.19.0"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "TailorFormatsTests", "Fixtures", "gguf")
rng = np.random.default_rng(20261129)


def permute(weights, n_head, n_head_kv):
    """llama.cpp conversion/llama.py LlamaModel.permute: HF rotate-half row order → GGUF adjacent-pair order."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def random_k_blocks(qtype, n_blocks):
    """Valid K-quant blocks: random payload bytes, small finite f16 scales (NaN/inf scales are not valid data)."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    halves = (rng.standard_normal((n_blocks, 2)) * 0.01).astype(np.float16).view(np.uint8)
    if qtype == Q.Q4_K:
        raw[:, 0:4] = halves.reshape(n_blocks, 4)          # d, dmin first
    else:
        raw[:, 208:210] = halves[:, 0:2]                   # Q6_K: d last
    return raw


def codec_cases():
    cases = []
    spec_vector = ((np.arange(32, dtype=np.float32) - 15.5) / 16).astype(np.float32)
    tie = np.zeros(32, dtype=np.float32)
    tie[3], tie[9] = -2.0, 2.0                              # Q4_0 keeps the first of equal magnitudes
    for qtype in (Q.Q8_0, Q.Q4_0, Q.Q4_1):
        values = np.concatenate([spec_vector, np.zeros(32, np.float32), tie,
                                 rng.standard_normal(32 * 5).astype(np.float32) * 3]).astype(np.float32)
        packed = gguf.quants.quantize(values.reshape(1, -1), qtype)
        back = gguf.quants.dequantize(packed, qtype).reshape(-1)
        cases.append({"type": qtype.name, "input": [float(v) for v in values], "bytes": packed.tobytes().hex(),
                      "dequantized": [float(v) for v in back]})
    for qtype in (Q.Q4_K, Q.Q6_K):
        raw = random_k_blocks(qtype, 3)
        back = gguf.quants.dequantize(raw.reshape(1, -1), qtype).reshape(-1)
        cases.append({"type": qtype.name, "bytes": raw.tobytes().hex(), "dequantized": [float(v) for v in back]})
    return cases


def stored(values, qtype):
    """(bytes to write, f32 values a reader must decode) for an HF-ordered f32 matrix stored as qtype."""
    if qtype == Q.F32:
        return values.astype(np.float32), values.astype(np.float32)
    if qtype in (Q.Q4_K, Q.Q6_K):
        # gguf-py has no K-quant encoder: store random valid blocks of the same shape instead of `values`.
        rows, cols = values.shape
        packed = random_k_blocks(qtype, rows * cols // 256).reshape(rows, -1)
        return packed, gguf.quants.dequantize(packed, qtype).astype(np.float32).reshape(values.shape)
    packed = gguf.quants.quantize(values, qtype)
    return packed, gguf.quants.dequantize(packed, qtype).astype(np.float32).reshape(values.shape)


def write_model(path, arch, hf_tensors, types, meta, expected_path, permute_heads=None, alignment=None):
    writer = gguf.GGUFWriter(path, arch)
    if alignment:
        writer.add_custom_alignment(alignment)
    for key, (vtype, value) in meta.items():
        if vtype == V.ARRAY:
            writer.add_array(key, value)
        else:
            writer.add_key_value(key, value, vtype)
    expected = {}
    for gguf_name, hf_name, values in hf_tensors:
        qtype = types.get(gguf_name, Q.F32)
        data, decoded = stored(values, qtype)
        if hf_name is not None:
            expected[hf_name] = np.ascontiguousarray(decoded, dtype=np.float32)
        heads = (permute_heads or {}).get(gguf_name)
        if heads is not None:
            # Row permutation commutes with per-row block quantization, so permuting the stored rows equals
            # quantizing the permuted matrix, which is what the converter + llama-quantize produce.
            data = permute(data, *heads)
        writer.add_tensor(gguf_name, data, raw_dtype=None if qtype == Q.F32 else qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    save_file(expected, expected_path)


def tiny_llama():
    hidden, heads, kv, hd, inter, vocab = 256, 2, 1, 16, 64, 16
    theta, factor, low, high, orig = 500000.0, 8.0, 1.0, 4.0, 8192
    # llama.cpp LlamaModel.generate_extra_tensors (rope_type llama3)
    import math
    freqs = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float32) / hd))
    rope = []
    for freq in freqs:
        wavelen = 2 * math.pi / float(freq)
        if wavelen < orig / high:
            rope.append(1.0)
        elif wavelen > orig / low:
            rope.append(factor)
        else:
            smooth = (orig / wavelen - low) / (high - low)
            rope.append(1 / ((1 - smooth) / factor + smooth))
    r = lambda *shape: (rng.standard_normal(shape) * 0.5).astype(np.float32)
    tensors = [
        ("token_embd.weight", "model.embed_tokens.weight", r(vocab, hidden)),
        ("rope_freqs.weight", None, np.array(rope, dtype=np.float32)),
        ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight", r(hidden)),
        ("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", r(heads * hd, hidden)),
        ("blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", r(kv * hd, hidden)),
        ("blk.0.attn_v.weight", "model.layers.0.self_attn.v_proj.weight", r(kv * hd, hidden)),
        ("blk.0.attn_output.weight", "model.layers.0.self_attn.o_proj.weight", r(hidden, heads * hd)),
        # attention_bias=True: q/k/v/o biases; the converter permutes the q and k biases like their weights.
        ("blk.0.attn_q.bias", "model.layers.0.self_attn.q_proj.bias", r(heads * hd)),
        ("blk.0.attn_k.bias", "model.layers.0.self_attn.k_proj.bias", r(kv * hd)),
        ("blk.0.attn_v.bias", "model.layers.0.self_attn.v_proj.bias", r(kv * hd)),
        ("blk.0.attn_output.bias", "model.layers.0.self_attn.o_proj.bias", r(hidden)),
        ("blk.0.ffn_norm.weight", "model.layers.0.post_attention_layernorm.weight", r(hidden)),
        ("blk.0.ffn_gate.weight", "model.layers.0.mlp.gate_proj.weight", r(inter, hidden)),
        ("blk.0.ffn_up.weight", "model.layers.0.mlp.up_proj.weight", r(inter, hidden)),
        ("blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight", r(hidden, inter)),
        ("output_norm.weight", "model.norm.weight", r(hidden)),
    ]
    types = {"token_embd.weight": Q.Q8_0, "blk.0.attn_q.weight": Q.Q4_0, "blk.0.attn_k.weight": Q.Q4_1,
             "blk.0.attn_v.weight": Q.Q4_K, "blk.0.attn_output.weight": Q.Q8_0, "blk.0.ffn_gate.weight": Q.Q6_K,
             "blk.0.ffn_up.weight": Q.F16, "blk.0.ffn_down.weight": Q.BF16}
    meta = {
        "general.name": (V.STRING, "tiny llama"),
        "general.file_type": (V.UINT32, 3),
        "general.quantization_version": (V.UINT32, 2),
        "llama.block_count": (V.UINT32, 1),
        "llama.context_length": (V.UINT32, 131072),
        "llama.embedding_length": (V.UINT32, hidden),
        "llama.feed_forward_length": (V.UINT32, inter),
        "llama.attention.head_count": (V.UINT32, heads),
        "llama.attention.head_count_kv": (V.UINT32, kv),
        "llama.attention.key_length": (V.UINT32, hd),
        "llama.attention.value_length": (V.UINT32, hd),
        "llama.rope.freq_base": (V.FLOAT32, theta),
        "llama.rope.dimension_count": (V.UINT32, hd),
        "llama.attention.layer_norm_rms_epsilon": (V.FLOAT32, 1e-5),
        "llama.vocab_size": (V.UINT32, vocab),
        "tokenizer.ggml.model": (V.STRING, "gpt2"),
        "tokenizer.ggml.tokens": (V.ARRAY, [f"tok{i}" for i in range(vocab - 2)] + ["Ġt", "<|im_end|>"]),
        "tokenizer.ggml.token_type": (V.ARRAY, [1] * (vocab - 1) + [3]),
        "tokenizer.ggml.merges": (V.ARRAY, ["Ġ t"]),
        "tokenizer.ggml.bos_token_id": (V.UINT32, 1),
        "tokenizer.ggml.eos_token_id": (V.UINT32, 15),
        "tokenizer.ggml.add_bos_token": (V.BOOL, False),
        "tokenizer.chat_template": (V.STRING, "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"),
        "test.uint8": (V.UINT8, 200), "test.int8": (V.INT8, -100), "test.uint16": (V.UINT16, 60000),
        "test.int16": (V.INT16, -30000), "test.uint32": (V.UINT32, 4000000000), "test.int32": (V.INT32, -2000000000),
        "test.float32": (V.FLOAT32, 0.1), "test.bool": (V.BOOL, True), "test.string": (V.STRING, "héllo ✓"),
        "test.uint64": (V.UINT64, 2 ** 63 + 5), "test.int64": (V.INT64, -(2 ** 62)), "test.float64": (V.FLOAT64, 0.1),
        "test.nested": (V.ARRAY, [[1, 2, 3], [4], [5, 6]]),
        "test.floats": (V.ARRAY, [0.5, -1.25]),
    }
    write_model(os.path.join(OUT, "tiny_llama.gguf"), "llama", tensors, types, meta,
                os.path.join(OUT, "tiny_llama_expected.safetensors"),
                permute_heads={"blk.0.attn_q.weight": (heads, heads), "blk.0.attn_k.weight": (heads, kv),
                               "blk.0.attn_q.bias": (heads, heads), "blk.0.attn_k.bias": (heads, kv)})


def tiny_qwen2():
    hidden, heads, kv, inter, vocab, layers = 64, 4, 2, 128, 32, 2
    hd = hidden // heads
    r = lambda *shape: (rng.standard_normal(shape) * 0.5).astype(np.float32)
    tensors = [("token_embd.weight", "model.embed_tokens.weight", r(vocab, hidden))]
    types = {"token_embd.weight": Q.F16, "output.weight": Q.Q8_0}
    for l in range(layers):
        p, h = f"blk.{l}.", f"model.layers.{l}."
        tensors += [
            (p + "attn_norm.weight", h + "input_layernorm.weight", r(hidden)),
            (p + "attn_q.weight", h + "self_attn.q_proj.weight", r(heads * hd, hidden)),
            (p + "attn_q.bias", h + "self_attn.q_proj.bias", r(heads * hd)),
            (p + "attn_k.weight", h + "self_attn.k_proj.weight", r(kv * hd, hidden)),
            (p + "attn_k.bias", h + "self_attn.k_proj.bias", r(kv * hd)),
            (p + "attn_v.weight", h + "self_attn.v_proj.weight", r(kv * hd, hidden)),
            (p + "attn_v.bias", h + "self_attn.v_proj.bias", r(kv * hd)),
            (p + "attn_output.weight", h + "self_attn.o_proj.weight", r(hidden, heads * hd)),
            (p + "ffn_norm.weight", h + "post_attention_layernorm.weight", r(hidden)),
            (p + "ffn_gate.weight", h + "mlp.gate_proj.weight", r(inter, hidden)),
            (p + "ffn_up.weight", h + "mlp.up_proj.weight", r(inter, hidden)),
            (p + "ffn_down.weight", h + "mlp.down_proj.weight", r(hidden, inter)),
        ]
        types[p + "attn_q.weight"] = Q.Q8_0
        types[p + "attn_k.weight"] = Q.BF16
    tensors += [("output_norm.weight", "model.norm.weight", r(hidden)),
                ("output.weight", "lm_head.weight", r(vocab, hidden))]
    meta = {
        "general.file_type": (V.UINT32, 7),
        "qwen2.block_count": (V.UINT32, layers),
        "qwen2.context_length": (V.UINT32, 32768),
        "qwen2.embedding_length": (V.UINT32, hidden),
        "qwen2.feed_forward_length": (V.UINT32, inter),
        "qwen2.attention.head_count": (V.UINT32, heads),
        "qwen2.attention.head_count_kv": (V.UINT32, kv),
        "qwen2.rope.freq_base": (V.FLOAT32, 1000000.0),
        "qwen2.attention.layer_norm_rms_epsilon": (V.FLOAT32, 1e-6),
        "qwen2.rope.scaling.type": (V.STRING, "linear"),
        "qwen2.rope.scaling.factor": (V.FLOAT32, 4.0),
        "tokenizer.ggml.model": (V.STRING, "gpt2"),
        "tokenizer.ggml.tokens": (V.ARRAY, [f"t{i}" for i in range(vocab)]),
        "tokenizer.ggml.eos_token_id": (V.UINT32, 31),
        "tokenizer.ggml.padding_token_id": (V.UINT32, 30),
    }
    write_model(os.path.join(OUT, "tiny_qwen2.gguf"), "qwen2", tensors, types, meta,
                os.path.join(OUT, "tiny_qwen2_expected.safetensors"), alignment=64)


def plain(value):
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def layout(path):
    reader = gguf.GGUFReader(path)
    fields = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        fields[name] = {"type": field.types[0].name, "value": plain(field.contents())}
    tensors = [{"name": t.name, "type": t.tensor_type.name, "shape": [int(d) for d in reversed(t.shape.tolist())],
                "offset": int(t.data_offset), "bytes": int(t.n_bytes)} for t in reader.tensors]
    return {"tensors": tensors, "metadata": fields}


def main():
    from importlib.metadata import version
    if version("gguf") != PINNED["gguf"]:
        print(f"warning: gguf {version('gguf')} differs from pinned {PINNED['gguf']}")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with open(os.path.join(OUT, "codecs.json"), "w") as f:
        json.dump(codec_cases(), f)
    tiny_llama()
    tiny_qwen2()
    with open(os.path.join(OUT, "layout.json"), "w") as f:
        json.dump({name: layout(os.path.join(OUT, name)) for name in ("tiny_llama.gguf", "tiny_qwen2.gguf")}, f, indent=1)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
