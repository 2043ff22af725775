#!/usr/bin/env python3
"""Fixtures for TailorQuantization: bitsandbytes 4-bit (NF4/FP4) quantization, double quantization, QuantState
serialization and a transformers-saved 4-bit tiny Llama, all made on CPU.

Pinned versions (see requirements-quant.txt): bitsandbytes 0.50.2, torch 2.15.0, transformers 5.24.0,
safetensors 0.8.0, numpy 2.x.

Run:  /opt/refvenv/bin/python tools/reference/quant_bnb.py [--check]     (about a minute on 2 cores)
Writes Tests/TailorQuantizationTests/Fixtures/{quant_cases.json, quant_cases.safetensors, quant_tables.json,
tiny_llama_4bit/, tiny_llama_4bit_dequant.safetensors, manifest.json}; --check exits 1 if any file changed.
"""
import json
import math
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

# bnb wraps its pure-torch kernels in torch.compile; run them eagerly so the reference is plain torch arithmetic.
os.environ.setdefault("TORCH_COMPILE_DISABLE", "1")
import torch
import bitsandbytes
import bitsandbytes.functional as F
import safetensors
import transformers
from safetensors.torch import save_file

PINNED = {"bitsandbytes": "0.50.2", "torch": "2.15.0", "transformers": "5.24.0", "safetensors": "0.8.0"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "TailorQuantizationTests", "Fixtures")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def check_versions():
    found = {"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__.split("+")[0],
             "transformers": transformers.__version__, "safetensors": safetensors.__version__}
    for name, want in PINNED.items():
        if found[name] != want:
            print(f"warning: {name} {found[name]} (pinned {want})", file=sys.stderr)
    return found


def f32_hex(t):
    return [format(v & 0xFFFFFFFF, "08x") for v in t.float().contiguous().view(torch.int32).tolist()]


def exact_nearest_blockwise(a, code, blocksize):
    """bitsandbytes' pure-torch reference quantize_blockwise (backends/default/ops.py): exact nearest code,
    ties to the lower index. bnb's CPU backend uses a look-up-table approximation instead."""
    flat = a.reshape(-1).float()
    n = flat.numel()
    rem = n % blocksize
    full = n - rem
    blocks = full // blocksize
    com = flat[:full].reshape(blocks, blocksize)
    absmax = com.abs().max(dim=-1)[0]
    scaled = torch.clamp(com * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        am = flat[full:].abs().max().clamp(min=1e-38)
        absmax = torch.cat([absmax, am.unsqueeze(0)])
        scaled = torch.cat([scaled, torch.clamp(flat[full:] / am, -1, 1)])
    bounds = (code[:-1] + code[1:]) / 2
    return torch.bucketize(scaled, bounds, out_int32=True).to(torch.uint8), absmax


def reference_dequant(packed, st):
    """f32 dequantization by bnb's pure-torch reference kernel (backends/default/ops.py), which bnb's CPU backend
    itself falls back to for odd row lengths. Its C kernel, used otherwise, assumes blocks never straddle rows."""
    from bitsandbytes.backends.default.ops import _dequantize_4bit_compute
    absmax = st.absmax
    if st.nested:
        absmax = F.dequantize_blockwise(st.absmax, st.state2)
        absmax += st.offset
    code = F.get_4bit_type(st.quant_type, device="cpu")
    return _dequantize_4bit_compute(packed.reshape(-1), absmax.float(), code, st.blocksize, st.shape, torch.float32)


def offset_f64(absmax):
    """The offset rule Tailor uses: sequential f64 sum, divide, round once to f32 (torch's f32 mean may differ
    by an ulp)."""
    s = 0.0
    for v in absmax.tolist():
        s += v
    return float(np.float32(s / absmax.numel()))


def make_input(shape, dtype, seed, kind):
    g = torch.Generator().manual_seed(seed)
    n = math.prod(shape)
    x = torch.randn(n, generator=g) * 0.02
    # A few outliers so that block scales vary widely.
    idx = torch.randint(0, n, (max(1, n // 97),), generator=g)
    x[idx] *= 25.0
    if kind == "zero_block":  # block 1 (of 64) entirely zero
        x[64:128] = 0.0
    if kind == "zero_tail":  # the last, partial block entirely zero
        x[-(n % 64 or 64):] = 0.0
    if kind == "ramp":
        x = torch.tensor([(k - 31.5) / 32 for k in range(n)])
    if kind == "tiny":  # many values inside FP4's zero band |s| < 0.0026 and exact ties
        x = torch.randn(n, generator=g) * 1e-3
        x[::64] = 1.0
    return x.reshape(shape).to(dtype)


def quant_cases():
    cases, tensors = [], {}
    specs = []
    seed = 100
    for qt in ("nf4", "fp4"):
        for nested in (False, True):
            for bs in (64, 128):
                for dt in ("float32", "bfloat16", "float16"):
                    specs.append(dict(qt=qt, nested=nested, bs=bs, dt=dt, shape=[24, 128], kind="randn"))
    specs += [
        dict(qt="nf4", nested=False, bs=64, dt="float32", shape=[64], kind="ramp"),
        dict(qt="fp4", nested=False, bs=64, dt="float32", shape=[64], kind="ramp"),
        dict(qt="nf4", nested=True, bs=64, dt="float32", shape=[7, 9], kind="randn"),
        # Rows of 80 with blocks of 64: blocks straddle rows (bnb's CPU C dequant kernel gets this wrong).
        dict(qt="nf4", nested=True, bs=64, dt="float32", shape=[24, 80], kind="randn"),
        dict(qt="fp4", nested=False, bs=64, dt="bfloat16", shape=[10, 96], kind="randn"),
        dict(qt="nf4", nested=False, bs=64, dt="bfloat16", shape=[33, 65], kind="randn"),
        dict(qt="fp4", nested=True, bs=128, dt="float16", shape=[33, 65], kind="randn"),
        dict(qt="nf4", nested=True, bs=64, dt="float32", shape=[1001], kind="randn"),
        dict(qt="nf4", nested=True, bs=64, dt="float32", shape=[16, 64], kind="zero_block"),
        dict(qt="fp4", nested=False, bs=64, dt="float32", shape=[16, 64], kind="zero_block"),
        dict(qt="nf4", nested=False, bs=64, dt="float32", shape=[5, 40], kind="zero_tail"),
        dict(qt="fp4", nested=False, bs=64, dt="float32", shape=[8, 64], kind="tiny"),
        dict(qt="nf4", nested=False, bs=32, dt="float32", shape=[12, 48], kind="randn"),
        dict(qt="nf4", nested=True, bs=4096, dt="bfloat16", shape=[40, 256], kind="randn"),
        # More than 256 blocks: several nested blocks, the last one partial.
        dict(qt="nf4", nested=True, bs=64, dt="bfloat16", shape=[288, 160], kind="randn"),
    ]
    dmap = F.create_dynamic_map(signed=True).float()
    for i, s in enumerate(specs):
        seed += 1
        cid = f"c{i:02d}"
        x = make_input(s["shape"], DTYPES[s["dt"]], seed, s["kind"])
        packed, st = F.quantize_4bit(x, blocksize=s["bs"], compress_statistics=s["nested"], quant_type=s["qt"])
        deq = F.dequantize_4bit(packed, st)
        ref32 = reference_dequant(packed, st)
        blob = st.as_dict(packed=True)[f"quant_state.bitsandbytes__{s['qt']}"]
        case = dict(id=cid, quant_type=s["qt"], blocksize=s["bs"], dtype=s["dt"], shape=s["shape"],
                    nested=s["nested"], kind=s["kind"], quant_state_json=bytes(blob.tolist()).decode("utf-8"))
        tensors[f"{cid}.input"] = x.contiguous()
        tensors[f"{cid}.packed"] = packed.reshape(-1).contiguous()
        ref = ref32.to(DTYPES[s["dt"]])
        tensors[f"{cid}.dequant_ref"] = ref.contiguous()
        if s["dt"] != "float32":
            tensors[f"{cid}.dequant_ref_f32"] = ref32.contiguous()
        case["bnb_cpu_matches_reference"] = bool(torch.equal(deq.reshape(-1).view(torch.uint8),
                                                            ref.reshape(-1).view(torch.uint8)))
        if not case["bnb_cpu_matches_reference"]:
            tensors[f"{cid}.dequant_bnb_cpu"] = deq.reshape(ref.shape).contiguous()
        if s["nested"]:
            # Recompute the 4-bit absmax (bnb discards it) with the torch reference kernel.
            _, absmax = torch.ops.bitsandbytes.quantize_4bit.default(x, s["bs"], s["qt"], torch.uint8)
            tensors[f"{cid}.absmax"] = absmax.contiguous()
            tensors[f"{cid}.codes"] = st.absmax.contiguous()
            tensors[f"{cid}.nested_absmax"] = st.state2.absmax.contiguous()
            tensors[f"{cid}.offset"] = st.offset.reshape(1).float().contiguous()
            # Exact-nearest 8-bit codes given bnb's offset ...
            codes, nabs = exact_nearest_blockwise(absmax - st.offset, dmap, 256)
            tensors[f"{cid}.exact_codes"] = codes.contiguous()
            tensors[f"{cid}.exact_nested_absmax"] = nabs.contiguous()
            # ... and given Tailor's f64 offset rule.
            own = torch.tensor(offset_f64(absmax), dtype=torch.float32)
            codes2, nabs2 = exact_nearest_blockwise(absmax - own, dmap, 256)
            tensors[f"{cid}.own_offset"] = own.reshape(1).contiguous()
            tensors[f"{cid}.own_codes"] = codes2.contiguous()
            tensors[f"{cid}.own_nested_absmax"] = nabs2.contiguous()
            case["codes_differing_from_exact"] = int((codes.int() - st.absmax.int()).abs().gt(0).sum())
        else:
            tensors[f"{cid}.absmax"] = st.absmax.contiguous()
        cases.append(case)
    return cases, tensors


def tables():
    nf4 = F.get_4bit_type("nf4", device="cpu")
    fp4 = F.get_4bit_type("fp4", device="cpu")
    dmap = F.create_dynamic_map(signed=True)
    # Python float repr of f32 values widened to f64 (what json.dumps writes for nested_offset).
    g = torch.Generator().manual_seed(7)
    samples = [0.05495452880859375, 1e-5, 1.5e-05, 0.0001, 123.0, 1e16, 1e15, 3.0e-7, 0.1, 1.0, 0.0, -2.5,
               2.608694553375244, 65504.0, 1e-38, 3.4e38]
    samples += (torch.rand(40, generator=g) * 0.3).tolist()
    samples += (torch.randn(20, generator=g) * 1e6).tolist()
    reprs = []
    for v in samples:
        f = float(np.float32(v))
        reprs.append([format(struct.unpack("<I", struct.pack("<f", f))[0], "08x"), json.dumps(f)])
    return {
        "nf4_bits": f32_hex(nf4), "fp4_bits": f32_hex(fp4), "dynamic_map_bits": f32_hex(dmap),
        "python_float_repr": reprs,
    }


def tiny_llama(out_dir):
    """A tiny random Llama saved by transformers in 4-bit (nf4 + double quant) on CPU."""
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      tie_word_embeddings=False)
    tmp = tempfile.mkdtemp()
    try:
        base = LlamaForCausalLM(cfg).to(torch.bfloat16)
        base.save_pretrained(os.path.join(tmp, "base"))
        qcfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=torch.bfloat16)
        model = AutoModelForCausalLM.from_pretrained(os.path.join(tmp, "base"), quantization_config=qcfg,
                                                     device_map="cpu", dtype=torch.bfloat16)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        model.save_pretrained(out_dir)
        # Reference dequantization of every 4-bit linear, in its original dtype.
        deq = {}
        for name, mod in model.named_modules():
            if isinstance(mod, bitsandbytes.nn.Linear4bit):
                w = mod.weight
                deq[name + ".weight"] = F.dequantize_4bit(w.data, w.quant_state).contiguous()
        return deq
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def file_manifest(versions):
    import hashlib
    files = {}
    for folder, _, names in os.walk(OUT):
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, OUT)
            if rel in ("manifest.json", ".gitkeep"):
                continue
            with open(path, "rb") as f:
                data = f.read()
            files[rel] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {"script": "tools/reference/quant_bnb.py", "versions": versions, "files": dict(sorted(files.items()))}


def main():
    """Writes the fixtures and manifest.json; with --check, fails when a regenerated file differs."""
    versions = check_versions()
    os.makedirs(OUT, exist_ok=True)
    manifest_path = os.path.join(OUT, "manifest.json")
    previous = None
    if "--check" in sys.argv and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            previous = json.load(f)
    cases, tensors = quant_cases()
    save_file(tensors, os.path.join(OUT, "quant_cases.safetensors"))
    with open(os.path.join(OUT, "quant_cases.json"), "w") as f:
        json.dump({"versions": versions, "cases": cases}, f, indent=1)
    with open(os.path.join(OUT, "quant_tables.json"), "w") as f:
        json.dump(tables(), f, indent=1)
    deq = tiny_llama(os.path.join(OUT, "tiny_llama_4bit"))
    save_file(deq, os.path.join(OUT, "tiny_llama_4bit_dequant.safetensors"))
    for folder, _, files in os.walk(OUT):  # safetensors writes 0600 files
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    manifest = file_manifest(versions)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.chmod(manifest_path, 0o644)
    print(f"{len(cases)} quantization cases, {len(deq)} 4-bit linears in the tiny Llama, "
          f"{len(manifest['files'])} files -> {manifest_path}")
    if previous is not None and previous["files"] != manifest["files"]:
        changed = [k for k in manifest["files"] if previous["files"].get(k) != manifest["files"][k]]
        print(f"fixtures changed: {changed}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
