"""Reference fixture for exporting a SentencePiece-style (Llama-2 / Mistral) tokenizer to GGUF.

Pinned versions: transformers 5.24.0, tokenizers 0.23.3, gguf 0.19.0, sentencepiece 0.2.3 (requirements-export.txt). Run from the
repository root with /opt/refvenv/bin/python:

  export_sp_tokenizer.py

Writes Tests/TailorExportTests/Fixtures/sp-tokenizer/ (and sp-tokenizer-metaspace/, the same with sp_metaspace's
non-legacy Metaspace pre-tokenizer instead of the legacy Prepend/Replace normalizer, template and decoder unchanged):
  tokenizer.json, tokenizer_config.json   the sp_legacy tokenizer of the TailorTokenizers fixtures (<unk> <s> </s>,
                                          256 <0xNN> byte pieces, ▁ pieces, byte fallback, Llama-2's legacy
                                          normalizer), its added tokens reduced to the three specials plus three
                                          tokens appended after the vocabulary (two special, one not), a chat
                                          template, bos/eos/unk/pad and add_bos/add_eos in tokenizer_config.json.
  expected-vocab.gguf                     what llama.cpp's convert_hf_to_gguf writes for this folder (a llama model
                                          without tokenizer.model: LlamaModel.set_vocab → _set_vocab_llama_hf), made
                                          with the same gguf-py calls: LlamaHfVocab(all_tokens) → tokens, scores,
                                          token types; model "llama", pre "default"; SpecialVocab(n_vocab) → special
                                          ids, add_bos/add_eos, chat template. config.json (tiny-llama's, vocab_size
                                          set to the tokenizer's size) is written next to it for SpecialVocab's
                                          fallback ids and removed again.
  transformers-from-gguf.json, -ids.json  transformers' tokenizer for a GGUF with the keys Tailor exports (converter
                                          keys + merges) and its ids of the texts: the reference for the tokenizer.json
                                          `tailor merge` writes for a GGUF base.
Also Tests/TailorExportTests/Fixtures/sp-model/: a tokenizer.model folder (see sentencepiece_model_variant).
  encodings.json                          transformers' ids of a corpus sample (add_special_tokens=True), texts
                                          included: what Tailor's tokenizer must reproduce from the folder and from
                                          the exported GGUF.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from models_common import check_versions  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
TOK = REPO / "Tests" / "TailorTokenizersTests" / "Fixtures"
OUT = REPO / "Tests" / "TailorExportTests" / "Fixtures" / "sp-tokenizer"
TEMPLATE = ("{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + eos_token }}"
            "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}")


def added(id_, content, special):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": special}


def main() -> None:
    legacy = json.loads((TOK / "sp_legacy" / "tokenizer.json").read_text(encoding="utf-8"))
    metaspace = json.loads((TOK / "sp_metaspace" / "tokenizer.json").read_text(encoding="utf-8"))
    assert legacy["model"] == metaspace["model"]
    # Only the pre-tokenization differs: the Metaspace variant keeps Llama-2's BOS-only template and decoder.
    metaspace["post_processor"], metaspace["decoder"] = legacy["post_processor"], legacy["decoder"]
    for name, tokenizer in (("sp-tokenizer", legacy), ("sp-tokenizer-metaspace", metaspace)):
        write_variant(OUT.parent / name, tokenizer)
    sentencepiece_model_variant(OUT.parent / "sp-model")


def write_variant(out: pathlib.Path, tokenizer: dict) -> None:
    import gguf
    from transformers import AutoTokenizer

    base = len(tokenizer["model"]["vocab"])
    tokenizer["added_tokens"] = [added(0, "<unk>", True), added(1, "<s>", True), added(2, "</s>", True),
                                 added(base, "<|user|>", True), added(base + 1, "<|assistant|>", True),
                                 added(base + 2, "<tool>", False)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "pad_token": "</s>", "add_bos_token": True, "add_eos_token": False,
              "extra_special_tokens": ["<|user|>", "<|assistant|>"], "chat_template": TEMPLATE,
              "clean_up_tokenization_spaces": False}
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")

    # convert_hf_to_gguf, LlamaModel.set_vocab with no tokenizer.model → _set_vocab_llama_hf.
    model_config = json.loads((REPO / "Tests" / "TailorModelsTests" / "Fixtures" / "tiny-llama" / "config.json").read_text())
    model_config["vocab_size"] = base + 3
    (out / "config.json").write_text(json.dumps(model_config))
    vocab = gguf.LlamaHfVocab(out)
    tokens, scores, toktypes = [], [], []
    for text, score, toktype in vocab.all_tokens():
        tokens.append(text)
        scores.append(score)
        toktypes.append(toktype)
    assert len(tokens) == vocab.vocab_size
    writer = gguf.GGUFWriter(str(out / "expected-vocab.gguf"), "llama")
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(toktypes)
    special_vocab = gguf.SpecialVocab(out, n_vocab=len(tokens))
    special_vocab.add_to_gguf(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (out / "config.json").unlink()
    for leftover in out.glob("models--*"):  # AutoTokenizer's cache_dir=base_path may create one
        shutil.rmtree(leftover)

    hf = AutoTokenizer.from_pretrained(out)
    corpus = json.loads((TOK / "corpus.json").read_text(encoding="utf-8"))
    texts = corpus[:300] + ["<|user|>Hi there</s><|assistant|>Hello!<tool> done", "  leading spaces", "tabs\tand\nnewlines",
                            "emoji 🤗 and accents café", ""]
    encodings = [{"text": t, "ids": hf(t, add_special_tokens=True)["input_ids"]} for t in texts]
    (out / "encodings.json").write_text(json.dumps({"all_special_ids": hf.all_special_ids, "encodings": encodings},
                                                   ensure_ascii=False), encoding="utf-8")
    transformers_from_gguf(out, tokenizer, tokens, scores, toktypes, special_vocab, texts)
    print(out.name, "tokens", len(tokens), "special ids", special_vocab.special_token_ids, "add", special_vocab.add_special_token)
    print("types of the appended tokens", toktypes[base:], "all_special_ids", hf.all_special_ids)


def transformers_from_gguf(out, tokenizer, tokens, scores, toktypes, special_vocab, texts):
    """transformers' tokenizer for a GGUF holding what Tailor's export writes for this folder (the converter's keys
    plus tokenizer.ggml.merges): the reference for the tokenizer.json that `tailor merge` writes from a GGUF base.
    Saved as transformers-from-gguf.json (tokenizer.json) and the ids of the texts in transformers-from-gguf-ids.json."""
    import tempfile

    import gguf
    import numpy as np
    from transformers import AutoTokenizer
    merges = [" ".join(pair) if isinstance(pair, list) else pair for pair in tokenizer["model"]["merges"]]
    with tempfile.TemporaryDirectory() as tmp:
        w = gguf.GGUFWriter(f"{tmp}/m.gguf", "llama")
        w.add_block_count(1)
        w.add_context_length(128)
        w.add_embedding_length(8)
        w.add_feed_forward_length(16)
        w.add_head_count(2)
        w.add_head_count_kv(2)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_rope_dimension_count(4)
        w.add_vocab_size(len(tokens))
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(toktypes)
        special_vocab.add_to_gguf(w)
        w.add_token_merges(merges)
        w.add_tensor("token_embd.weight", np.zeros((len(tokens), 8), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        hf = AutoTokenizer.from_pretrained(tmp, gguf_file="m.gguf")
        hf.save_pretrained(f"{tmp}/out")
        saved = json.loads(pathlib.Path(f"{tmp}/out/tokenizer.json").read_text(encoding="utf-8"))
    (out / "transformers-from-gguf.json").write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    ids = [hf(t, add_special_tokens=True)["input_ids"] for t in texts]
    (out / "transformers-from-gguf-ids.json").write_text(json.dumps(ids), encoding="utf-8")


def looks_special(t: str) -> bool:  # the converter's does_token_look_special
    return (t in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (t.startswith("<|") and t.endswith("|>"))
            or (t.startswith("<\uff5c") and t.endswith("\uff5c>")) or (t.startswith("<unused") and t.endswith(">")))


def sentencepiece_model_variant(out: pathlib.Path) -> None:
    """A folder as Llama-2 repositories ship it: tokenizer.model (a SentencePiece BPE with byte fallback, trained here
    on the corpus) + the tokenizer.json transformers makes from it + tokenizer_config.json. expected-vocab.gguf holds
    what convert_hf_to_gguf writes for it: LlamaModel.set_vocab → _set_vocab_sentencepiece (tokenizer.model's pieces,
    scores and types, added_tokens_decoder, padding to vocab_size) + SpecialVocab, the lines below following
    _create_vocab_sentencepiece step by step."""
    import gguf
    import sentencepiece as spm
    from tokenizers import Tokenizer as HFTokenizer
    from transformers import AutoTokenizer

    corpus = json.loads((TOK / "corpus.json").read_text(encoding="utf-8"))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus[:1500]), model_prefix=str(out / "tokenizer"), vocab_size=800, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, split_digits=True,
        allow_whitespace_only_pieces=True, normalization_rule_name="identity", add_dummy_prefix=True,
        remove_extra_whitespaces=False, user_defined_symbols=["<tool>"], control_symbols=["<|user|>"], minloglevel=2,
        num_threads=1)
    (out / "tokenizer.vocab").unlink()
    config = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
              "add_bos_token": True, "add_eos_token": False, "legacy": True, "chat_template": TEMPLATE}
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    hf = AutoTokenizer.from_pretrained(out)
    hf.save_pretrained(out)  # tokenizer.json and the completed tokenizer_config.json (added_tokens_decoder)
    vocab_size = 800

    sp = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    toktypes = [gguf.TokenType.UNUSED] * vocab_size
    for token_id in range(sp.vocab_size()):
        toktype = gguf.TokenType.NORMAL
        if sp.IsUnknown(token_id):
            toktype = gguf.TokenType.UNKNOWN
        elif sp.IsControl(token_id):
            toktype = gguf.TokenType.CONTROL
        elif sp.IsUnused(token_id):
            toktype = gguf.TokenType.UNUSED
        elif sp.IsByte(token_id):
            toktype = gguf.TokenType.BYTE
        tokens[token_id], scores[token_id], toktypes[token_id] = sp.IdToPiece(token_id), sp.GetScore(token_id), toktype
    tokenizer_config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    for token_id, data in tokenizer_config.get("added_tokens_decoder", {}).items():
        token_id, token = int(token_id), data["content"]
        if data.get("special") or looks_special(token):
            toktypes[token_id] = gguf.TokenType.CONTROL
        else:
            token = token.replace("\u2581", " ")
            toktypes[token_id] = gguf.TokenType.USER_DEFINED
        scores[token_id] = -1000.0
        tokens[token_id] = token
    model_config = json.loads((REPO / "Tests" / "TailorModelsTests" / "Fixtures" / "tiny-llama" / "config.json").read_text())
    model_config["vocab_size"] = vocab_size
    (out / "config.json").write_text(json.dumps(model_config))
    writer = gguf.GGUFWriter(str(out / "expected-vocab.gguf"), "llama")
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(toktypes)
    gguf.SpecialVocab(out, n_vocab=len(tokens)).add_to_gguf(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (out / "config.json").unlink()

    # transformers' ids, and those of the same tokenizer.json with Metaspace prepend_scheme "first" (Tailor's GGUF
    # reader prefixes "▁" to the text's first piece only; "always" also prefixes the text after an added token).
    first = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    first["pre_tokenizer"]["prepend_scheme"] = "first"
    first = HFTokenizer.from_str(json.dumps(first))
    texts = corpus[:300] + ["<|user|>Hi there</s><tool> done", "  leading spaces", "tabs\tand\nnewlines", ""]
    encodings = [{"text": t, "ids": hf(t, add_special_tokens=True)["input_ids"],
                  "ids_first": first.encode(t, add_special_tokens=True).ids} for t in texts]
    (out / "encodings.json").write_text(json.dumps({"encodings": encodings}, ensure_ascii=False), encoding="utf-8")
    print(out.name, "tokens", len(tokens), "types", toktypes[:6], "scores", scores[258:264])


if __name__ == "__main__":
    check_versions()
    main()
