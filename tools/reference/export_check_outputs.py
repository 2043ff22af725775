"""Developer-run checks of files written by Tailor's merge/export (not a fixture generator).

Pinned versions: transformers 5.24.0, tokenizers 0.23.3, gguf 0.19.0, torch 2.15.0 (requirements-export.txt);
llama.cpp through llama-cpp-py-sync 0.11739 (prebuilt llama.cpp b11739 shared libraries, CFFI; `pip install
llama-cpp-py-sync cffi`) is optional: without it the GGUF is validated with gguf-py's reader only, and the script
says so. On Debian 12 (glibc 2.36) neither that wheel (needs glibc 2.38) nor llama-cpp-cffi 0.4.42 (needs GCC 14's
libstdc++) loads, and llama-cpp-python (built from source) did not finish within 10 minutes on 2 cores.

  export_check_outputs.py gguf FILE.gguf [HF_FOLDER] [--lora LORA.gguf]
      gguf-py: header, alignment, every tensor readable, 1-D/norm tensors F32, required llama/qwen2 keys,
      general.file_type and quantization_version. With llama.cpp available: load FILE (applying LORA.gguf at scale 1
      if given), evaluate token ids and compare the next-token logits at every position with transformers run in f32
      on HF_FOLDER (the same model merged in f32 by `tailor merge`, whose logits equal Tailor's within 1e-4).
  export_check_outputs.py tokenizer HF_FOLDER GGUF_FILE
      transformers' AutoTokenizer loads HF_FOLDER (written by `tailor merge` from a GGUF base) and must tokenize a
      corpus exactly like llama.cpp's tokenizer of GGUF_FILE (with llama_cpp) or like transformers' own GGUF loader
      of GGUF_FILE (which uses GPT-2's digit rules, so digit-only differences are reported separately).
"""
from __future__ import annotations

import json
import sys

import numpy as np

TEXTS = ["Hello world!", "  spaces\tand\nnewlines 2024-11-29 3.14159", "<|im_start|>user\nHi<|im_end|>",
         "naïve café ünïcödé 日本語 🙂", "The capital of France is Paris, and 12345 + 678 = 13023."]


def check_gguf(path: str, folder: str | None, lora: str | None = None):
    import gguf
    r = gguf.GGUFReader(path)
    fields = {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer.ggml.") or k.endswith(("model", "pre"))}
    arch = fields["general.architecture"]
    required = ["block_count", "context_length", "embedding_length", "feed_forward_length", "attention.head_count",
                "attention.head_count_kv", "rope.freq_base", "attention.layer_norm_rms_epsilon"]
    missing = [k for k in required if f"{arch}.{k}" not in fields]
    assert not missing, f"missing keys {missing}"
    assert fields.get("general.quantization_version") == 2, "general.quantization_version"
    bad = [t.name for t in r.tensors if (len(t.shape) == 1 or t.name.endswith("_norm.weight")) and t.tensor_type.name != "F32"]
    assert not bad, f"non-F32 1-D tensors {bad}"
    types = sorted({t.tensor_type.name for t in r.tensors})
    for t in r.tensors:
        _ = np.asarray(t.data).sum()  # every tensor readable within the file
    print(f"gguf-py: {path}: {len(r.tensors)} tensors {types}, file_type {fields.get('general.file_type')}, "
          f"tokenizer {fields.get('tokenizer.ggml.model')}/{fields.get('tokenizer.ggml.pre')}: structure OK")
    if folder and not lora:
        transformers_gguf_check(path, folder)
    llama = llama_logits(path, IDS, lora)
    if llama is None:
        print("llama.cpp (llama_cpp_py_sync) not importable: llama.cpp load NOT checked (gguf-py structure only)")
        return
    print(f"llama.cpp b{llama_tag()} loaded {path}" + (f" with LoRA {lora}" if lora else "") + f"; logits {llama.shape}")
    if folder:
        import torch
        from transformers import AutoModelForCausalLM
        m = AutoModelForCausalLM.from_pretrained(folder).float().eval()
        with torch.no_grad():
            ref = m(torch.tensor([IDS])).logits[0].numpy()
        diff = np.abs(llama - ref)
        print(f"llama.cpp vs transformers(f32 merged folder): max |Δlogit| {diff.max():.4g} (max |logit| {np.abs(ref).max():.3g}), "
              f"top-1 agreement {(llama.argmax(-1) == ref.argmax(-1)).mean() * 100:.1f}% over {len(IDS)} positions")


def transformers_gguf_check(path: str, folder: str):
    """An independent reader: transformers' GGUF loader (gguf-py dequantization, its own Q/K un-permutation and
    metadata → config mapping) against transformers on the f32 merged folder."""
    import pathlib

    import torch
    from transformers import AutoModelForCausalLM
    p = pathlib.Path(path)
    ids = [i for i in IDS if i < json.loads((pathlib.Path(folder) / "config.json").read_text())["vocab_size"]]
    g = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name, dtype=torch.float32).eval()
    m = AutoModelForCausalLM.from_pretrained(folder).float().eval()
    with torch.no_grad():
        a, b = g(torch.tensor([ids])).logits[0], m(torch.tensor([ids])).logits[0]
    print(f"transformers(GGUF {p.name}) vs transformers(f32 folder): max |Δlogit| {float((a - b).abs().max()):.4g} "
          f"(max |logit| {float(b.abs().max()):.3g}), top-1 agreement {float((a.argmax(-1) == b.argmax(-1)).float().mean()) * 100:.1f}%")


IDS = [1, 504, 3458, 282, 4649, 314, 7042, 28, 284, 216, 33, 34, 35, 36, 37, 2]


def llama_tag():
    from llama_cpp_py_sync import __llama_cpp_tag__
    return __llama_cpp_tag__.lstrip("b")


def llama_logits(path: str, ids: list[int], lora: str | None):
    """Logits [len(ids), vocab] from llama.cpp for `ids` evaluated in one batch (all positions requested)."""
    try:
        from llama_cpp_py_sync import Llama
        llm = Llama(model_path=path, n_ctx=128, n_batch=128, n_threads=2, verbose=False)
    except (ImportError, RuntimeError) as error:  # not installed, or its prebuilt library needs a newer glibc
        print("llama.cpp unavailable:", str(error)[:200])
        return None
    lib, ffi = llm._lib, llm._ffi
    if lora:
        adapter = lib.llama_adapter_lora_init(llm._model, lora.encode())
        assert adapter != ffi.NULL, "llama.cpp refused the LoRA file"
        adapters = ffi.new("struct llama_adapter_lora *[1]", [adapter])
        scales = ffi.new("float[1]", [1.0])
        assert lib.llama_set_adapters_lora(llm._ctx, adapters, 1, scales) == 0
    batch = lib.llama_batch_init(len(ids), 0, 1)
    batch.n_tokens = len(ids)
    for i, t in enumerate(ids):
        batch.token[i] = t
        batch.pos[i] = i
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = 1
    assert lib.llama_decode(llm._ctx, batch) == 0, "llama_decode failed"
    n_vocab = llm.n_vocab
    out = np.stack([np.frombuffer(ffi.buffer(lib.llama_get_logits_ith(llm._ctx, i), 4 * n_vocab), dtype=np.float32).copy()
                    for i in range(len(ids))])
    lib.llama_batch_free(batch)
    return out


def check_tokenizer(folder: str, gguf_path: str):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder)
    print("AutoTokenizer loaded", type(tok).__name__, "bos", tok.bos_token, "eos", tok.eos_token,
          "chat_template", "yes" if tok.chat_template else "no")
    msgs = [{"role": "user", "content": "Hi"}]
    print("chat template renders:", repr(tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)[:80]))
    try:
        from llama_cpp_py_sync import Llama
        ref_name = "llama.cpp"
        llm = Llama(model_path=gguf_path, n_ctx=64, verbose=False)
        reference = lambda t: llm.tokenize(t, add_special=False, parse_special=True)  # noqa: E731
    except (ImportError, RuntimeError):
        ref_name = "transformers GGUF loader (GPT-2 digit rules)"
        import pathlib
        p = pathlib.Path(gguf_path)
        ref_tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
        reference = lambda t: ref_tok.encode(t, add_special_tokens=False)  # noqa: E731
    same = 0
    for text in TEXTS:
        a, b = tok.encode(text, add_special_tokens=False), reference(text)
        same += a == b
        if a != b:
            print(f"  differs from {ref_name}: {text!r}\n    ours {a}\n    ref  {b}")
    print(f"tokenizer: {same}/{len(TEXTS)} texts identical to {ref_name}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["gguf"]:
        args = sys.argv[2:]
        lora = None
        if "--lora" in args:
            k = args.index("--lora")
            lora = args[k + 1]
            del args[k:k + 2]
        check_gguf(args[0], args[1] if len(args) > 1 else None, lora)
    elif sys.argv[1:2] == ["tokenizer"]:
        check_tokenizer(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
