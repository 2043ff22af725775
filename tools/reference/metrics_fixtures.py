"""Writes the TailorMetrics test fixtures from the reference implementations.

Pinned versions (also in tools/reference/requirements-metrics.txt):
  scikit-learn==1.9.1  rouge-score==0.1.2  nltk==3.10.4  sacrebleu==2.6.0  jsonschema==4.26.0  numpy==2.4.6
Run: /opt/refvenv/bin/python tools/reference/metrics_fixtures.py
Output: Tests/TailorMetricsTests/Fixtures/*.json (+ manifest.json with versions and counts).
"""
import collections
import glob
import json
import math
import os
import random
import re
import string
import sys

import jsonschema
import nltk
import numpy as np
import rouge_score
import sacrebleu
import sklearn
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize as rouge_tokenize
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

sys.path.insert(0, os.path.dirname(__file__))
from metrics_corpus import make_pairs, porter_words  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "TailorMetricsTests", "Fixtures")
EXPECTED = {"scikit-learn": "1.9.1", "rouge-score": None, "nltk": "3.10.4", "sacrebleu": "2.6.0",
            "jsonschema": "4.26.0"}


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=True, indent=None, separators=(",", ":"), allow_nan=True)
        f.write("\n")
    return path


def nan_to_none(x):
    return None if isinstance(x, float) and math.isnan(x) else x


# ---------------------------------------------------------------- classification (scikit-learn)

def classification_fixture():
    rng = random.Random(11)
    cases = []
    label_sets = [["cat", "dog", "bird"], ["pos", "neg"], ["A", "B", "C", "D", "E", "F"], ["yes", "no", "maybe"],
                  ["Ω", "a", "Z", "ä", "10", "9"]]
    for c in range(24):
        labels = label_sets[c % len(label_sets)]
        n = rng.randint(1, 60)
        y_true = [rng.choice(labels) for _ in range(n)]
        if c % 4 == 1:
            y_pred = list(y_true)
            for i in range(n):
                if rng.random() < 0.3:
                    y_pred[i] = rng.choice(labels + ["other"])  # a label only in predictions
        elif c % 4 == 2:
            y_pred = [rng.choice(labels[:2]) for _ in range(n)]  # some labels never predicted
        else:
            y_pred = [rng.choice(labels) for _ in range(n)]
        if c == 3:
            y_true, y_pred = ["a", "a"], ["b", "b"]  # no overlap at all
        if c == 7:
            y_true, y_pred = ["x"], ["x"]
        cases.append((y_true, y_pred))
    out = []
    for y_true, y_pred in cases:
        entry = {"references": y_true, "predictions": y_pred, "accuracy": accuracy_score(y_true, y_pred)}
        labels = sorted(set(y_true) | set(y_pred))
        entry["labels"] = labels
        for zd_name, zd in (("zero", 0.0), ("one", 1.0), ("nan", np.nan)):
            p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=zd)
            res = {"precision": [nan_to_none(float(x)) for x in p], "recall": [nan_to_none(float(x)) for x in r],
                   "f1": [nan_to_none(float(x)) for x in f], "support": [int(x) for x in s]}
            for avg in ("macro", "micro", "weighted"):
                pa, ra, fa, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=zd)
                res[avg] = {"precision": nan_to_none(float(pa)), "recall": nan_to_none(float(ra)),
                            "f1": nan_to_none(float(fa))}
                assert nan_to_none(float(f1_score(y_true, y_pred, average=avg, zero_division=zd))) == \
                    res[avg]["f1"] or math.isnan(fa)
            entry[zd_name] = res
        out.append(entry)
    return out


# ---------------------------------------------------------------- SQuAD v1.1 (official evaluate-v1.1.py logic)

def squad_normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace (SQuAD v1.1 evaluate script)."""
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(prediction, ground_truth):
    prediction_tokens = squad_normalize_answer(prediction).split()
    ground_truth_tokens = squad_normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def squad_em(prediction, ground_truth):
    return squad_normalize_answer(prediction) == squad_normalize_answer(ground_truth)


def qa_fixture(pairs):
    items = []
    for p in pairs:
        refs = p["references"]
        items.append({"prediction": p["prediction"], "references": refs,
                      "normalized": squad_normalize_answer(p["prediction"]),
                      "em": float(max(squad_em(p["prediction"], r) for r in refs)),
                      "f1": float(max(squad_f1(p["prediction"], r) for r in refs)),
                      "em_first": float(squad_em(p["prediction"], refs[0])),
                      "f1_first": float(squad_f1(p["prediction"], refs[0]))})
    n = len(items)
    return {"items": items, "exact_match": 100.0 * sum(i["em"] for i in items) / n,
            "f1": 100.0 * sum(i["f1"] for i in items) / n}


# ---------------------------------------------------------------- ROUGE (rouge-score + nltk Porter)

def rouge_fixture(pairs):
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    out = {}
    for stem in (False, True):
        scorer = rouge_scorer.RougeScorer(types, use_stemmer=stem)
        items = []
        for p in pairs:
            ref = p["references"][0]
            s = scorer.score(ref, p["prediction"])
            m = scorer.score_multi(p["references"], p["prediction"])
            items.append({"prediction": p["prediction"], "reference": ref, "references": p["references"],
                          "tokens": scorer._tokenizer.tokenize(p["prediction"]),
                          "scores": {t: [s[t].precision, s[t].recall, s[t].fmeasure] for t in types},
                          "multi": {t: [m[t].precision, m[t].recall, m[t].fmeasure] for t in types}})
        mean_f = {t: float(np.mean([i["scores"][t][2] for i in items])) for t in types}
        out["stemmed" if stem else "plain"] = {"items": items, "mean_f": mean_f}
    return out


def porter_fixture():
    site = os.path.dirname(os.path.dirname(sklearn.__file__))
    texts = []
    for pkg in ("nltk", "sklearn", "sacrebleu", "jsonschema", "rouge_score"):
        for path in sorted(glob.glob(os.path.join(site, pkg, "**", "*.py"), recursive=True))[:400]:
            with open(path, encoding="utf-8", errors="ignore") as f:
                texts.append(f.read())
    words = porter_words(texts)
    stemmer = porter.PorterStemmer()
    return {"words": words, "stems": [stemmer.stem(w) for w in words]}


# ---------------------------------------------------------------- sacrebleu BLEU and chrF

def bleu_chrf_fixture(pairs):
    hyps = [p["prediction"] for p in pairs]
    streams1 = [[p["references"][0] for p in pairs]]
    streams3 = [[p["references"][k] for p in pairs] for k in range(3)]
    tok = Tokenizer13a()
    out = {"hypotheses": hyps, "references": streams3,
           "tokenized": [tok(h.rstrip()) for h in hyps] + [tok(r.rstrip()) for r in streams3[0]]}

    def bleu_dict(s):
        return {"score": s.score, "counts": [int(x) for x in s.counts], "totals": [int(x) for x in s.totals],
                "precisions": [float(x) for x in s.precisions], "bp": s.bp, "sys_len": int(s.sys_len),
                "ref_len": int(s.ref_len)}

    out["corpus_bleu_1ref"] = bleu_dict(BLEU().corpus_score(hyps, streams1))
    out["corpus_bleu_3ref"] = bleu_dict(BLEU().corpus_score(hyps, streams3))
    out["corpus_bleu_lowercase"] = bleu_dict(BLEU(lowercase=True).corpus_score(hyps, streams1))
    out["sentence_bleu"] = [bleu_dict(sacrebleu.sentence_bleu(h, [r])) for h, r in zip(hyps, streams1[0])]
    out["sentence_bleu_3ref"] = [bleu_dict(sacrebleu.sentence_bleu(h, [s[i] for s in streams3]))
                                 for i, h in enumerate(hyps[:120])]
    out["corpus_chrf_1ref"] = CHRF().corpus_score(hyps, streams1).score
    out["corpus_chrf_3ref"] = CHRF().corpus_score(hyps, streams3).score
    out["corpus_chrfpp_1ref"] = CHRF(word_order=2).corpus_score(hyps, streams1).score
    out["sentence_chrf"] = [sacrebleu.sentence_chrf(h, [r]).score for h, r in zip(hyps, streams1[0])]
    out["sentence_chrf_3ref"] = [sacrebleu.sentence_chrf(h, [s[i] for s in streams3]).score
                                 for i, h in enumerate(hyps[:120])]
    return out


# ---------------------------------------------------------------- JSON parse and JSON Schema (jsonschema)

def json_docs():
    docs = ['{"a": 1}', '[1, 2, 3]', '"text"', '42', '-0.5e3', 'true', 'null', '  {"x": [ ]}  ', '{"a": 1,}',
            "{'a': 1}", '{"a": 1} trailing', '', '   ', 'NaN', '[Infinity, -Infinity]', '{"a": "\\u00e9\\ud83d\\ude00"}',
            '{"a": "tab\there"}', '{"a": "\\x"}', '01', '1.', '.5', '-', '[1 2]', '{"a" 1}', '{"a":1,"a":2}',
            '"\\ud800"', '{"nested": {"deep": [1, {"k": null}]}}', '[', ']', '{"a": tru}', '1e400', '-0',
            '```json\n{"a": 1}\n```', 'Here is the answer:\n```json\n{"name": "x", "n": 3}\n```\nThanks',
            '```\n[1, 2]\n```', '```json\n{"broken": }\n```', 'The result is {"a": 1} ok', '\ufeff{"a":1}',
            '{"a":\n  1\n}', '[1,\n 2,\n x]', '"\u0001"', '{"key": "value with \\"quotes\\""}', '1.5E+2', 'tRue']
    out = []
    for d in docs:
        entry = {"text": d}
        try:
            entry["value"] = json.loads(d)
            entry["parses"] = True
        except (ValueError, RecursionError):
            entry["parses"] = False
        extracted = extract_json(d)
        entry["parses_extracted"] = extracted is not None
        if extracted is not None:
            entry["extracted"] = extracted[0]
        out.append(entry)
    return out


# The fenced-block rule TailorMetrics implements (StructuredOutputMetrics.extractJSON): the whole text if it parses,
# else the first ``` block (optionally tagged json) whose body parses.
FENCE_RE = re.compile(r"```(?:json|JSON)?[ \t]*\r?\n(.*?)```", re.S)


def extract_json(text):
    try:
        return (json.loads(text),)
    except ValueError:
        pass
    m = FENCE_RE.search(text)
    if m:
        try:
            return (json.loads(m.group(1)),)
        except ValueError:
            return None
    return None


SCHEMAS = [
    {"type": "object", "properties": {"name": {"type": "string", "minLength": 2, "maxLength": 8},
                                      "age": {"type": "integer", "minimum": 0, "maximum": 150},
                                      "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                                      "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"},
                                               "minItems": 1, "maxItems": 3},
                                      "kind": {"enum": ["a", "b", 3, None, True]},
                                      "version": {"const": 2}},
     "required": ["name", "age"], "additionalProperties": False},
    {"type": "object", "properties": {"id": {"type": "integer"}},
     "additionalProperties": {"type": "string", "maxLength": 3}},
    {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 10}]},
    {"oneOf": [{"type": "number", "maximum": 5}, {"type": "integer", "minimum": 3}]},
    {"allOf": [{"type": "object", "required": ["a"]}, {"properties": {"a": {"type": "boolean"}}}]},
    {"$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                         "required": ["x", "y"]}},
     "type": "array", "items": {"$ref": "#/$defs/point"}},
    {"definitions": {"name": {"type": "string", "pattern": "^[A-Z]"}},
     "type": "object", "properties": {"first": {"$ref": "#/definitions/name"},
                                      "others": {"type": "array", "items": {"$ref": "#/definitions/name"}}}},
    {"type": ["string", "null"], "minLength": 1},
    {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok", "error"]},
                                      "result": {"type": "object", "properties": {
                                          "items": {"type": "array", "items": {"type": "object", "properties": {
                                              "sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                                              "required": ["sku", "qty"], "additionalProperties": False}}},
                                          "required": ["items"]}},
     "required": ["status"]},
    {"type": "object", "patternProperties": {"^x": {"type": "integer"}, "e": {"type": "string"}},
     "properties": {"a": {"not": {"type": "string"}}}, "additionalProperties": False},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": False, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"const": 1}], "items": {"type": "string"}},
    {"type": "number", "multipleOf": 0.5, "minimum": 1},
]


def random_instance(rng, depth=0):
    r = rng.random()
    if depth > 2 or r < 0.45:
        return rng.choice([0, 1, 2, 3, 5, 7, 10, 11, 200, -1, 0.5, 1.0, 2.5, 5.0, 1e-9, 0.0, 1,
                           "", "a", "ab", "abc", "abcd", "Alice", "bob", "toolongname", "x1", "ok", "error", "b",
                           True, False, None, 3.0, 150, 151, "éé", "日本", "🙂🙂"])
    if r < 0.7:
        keys = ["name", "age", "score", "tags", "kind", "version", "id", "extra", "a", "x", "y", "first",
                "others", "status", "result", "items", "sku", "qty", "zz"]
        return {k: random_instance(rng, depth + 1) for k in rng.sample(keys, rng.randint(0, 5))}
    return [random_instance(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def handmade_instances():
    return [
        {"name": "Al", "age": 30}, {"name": "Al", "age": 30.0}, {"name": "Al", "age": True}, {"name": "A", "age": -1},
        {"name": "Alice", "age": 5, "score": 0.5, "tags": ["ab", "cd"], "kind": 3, "version": 2},
        {"name": "Alice", "age": 5, "score": 1, "tags": [], "kind": 1, "version": 2.0, "more": 1},
        {"name": "Alice", "age": 5, "tags": ["Ab", 3, "x", "y"], "kind": False, "version": True},
        {"id": 3, "a": "abc", "b": "abcd", "c": 5}, {"id": "3"}, "hello", 12, 9, 4, 4.5, 6, 3, 2.0,
        {"a": True}, {"a": 1}, {}, [{"x": 1, "y": 2}, {"x": 1}, {"x": "1", "y": None}], [],
        {"first": "Bob", "others": ["Al", "bo", 5]}, {"first": "bob"}, None, "", "x",
        {"status": "ok", "result": {"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 0, "x": 1}, {"qty": 2}]}},
        {"status": "maybe", "result": {}}, {"status": "error"}, [1, 2], "日本",
        {"x": 1, "xe": "s", "ee": 2, "a": "s"}, {"a": 1, "b": 2}, ["a", 1], ["a", 1, 2], ["a", "a"], [1, 1.0],
        [1, "x", "y"], [True, "x"], [1, True], 1.5, 2.25, 0.5,
    ]


def pointer(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def schema_fixture():
    rng = random.Random(5)
    cases = []
    for si, schema in enumerate(SCHEMAS):
        validator = jsonschema.Draft202012Validator(schema)
        instances = handmade_instances() + [random_instance(rng) for _ in range(40)]
        for inst in instances:
            errors = sorted({(pointer(e.absolute_path), e.validator) for e in validator.iter_errors(inst)})
            cases.append({"schema": si, "instance": inst, "valid": not errors,
                          "errors": [{"path": p, "keyword": k} for p, k in errors]})
    return {"schemas": SCHEMAS, "cases": cases}


def field_accuracy_reference(pred, ref):
    """Fraction of reference leaf fields (objects and arrays recursed; empty containers are leaves) that the
    prediction has at the same path with an equal value (1 == 1.0; booleans are not numbers)."""
    def leaves(v, path):
        if isinstance(v, dict) and v:
            for k, x in v.items():
                yield from leaves(x, path + (("k", k),))
        elif isinstance(v, list) and v:
            for i, x in enumerate(v):
                yield from leaves(x, path + (("i", i),))
        else:
            yield path, v

    def lookup(v, path):
        for kind, key in path:
            if kind == "k" and isinstance(v, dict) and key in v:
                v = v[key]
            elif kind == "i" and isinstance(v, list) and key < len(v):
                v = v[key]
            else:
                return False, None
        return True, v

    def equal(a, b):
        if isinstance(a, bool) or isinstance(b, bool):
            return isinstance(a, bool) and isinstance(b, bool) and a == b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a == b
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    ls = list(leaves(ref, ()))
    hit = 0
    for path, v in ls:
        found, pv = lookup(pred, path)
        if found and equal(pv, v):
            hit += 1
    return hit, len(ls)


def field_fixture():
    rng = random.Random(9)
    out = []
    for _ in range(80):
        ref = random_instance(rng, 0)
        if not isinstance(ref, (dict, list)):
            ref = {"v": ref}
        pred = json.loads(json.dumps(ref))
        r = rng.random()
        if r < 0.5:
            pred = random_instance(rng, 1) if rng.random() < 0.3 else pred
            if isinstance(pred, dict) and pred:
                k = rng.choice(list(pred))
                pred[k] = random_instance(rng, 2)
        elif r < 0.6 and isinstance(pred, dict):
            pred["extra"] = 1
        hit, total = field_accuracy_reference(pred, ref)
        out.append({"prediction": json.dumps(pred), "reference": json.dumps(ref), "matched": hit, "total": total})
    out.append({"prediction": '{"a": 1.0, "b": [true, 2]}', "reference": '{"a": 1, "b": [1, 2], "c": {}}',
                "matched": 2, "total": 4})
    for o in out[-1:]:
        hit, total = field_accuracy_reference(json.loads(o["prediction"]), json.loads(o["reference"]))
        o["matched"], o["total"] = hit, total
    return out


# ---------------------------------------------------------------- language modelling

def lm_fixture():
    rng = random.Random(3)
    pairs = [(rng.uniform(0.0, 300.0), rng.randint(0, 200)) for _ in range(50)]
    pairs = [(nll if n else 0.0, n) for nll, n in pairs]
    total_nll = sum(p[0] for p in pairs)
    total_tokens = sum(p[1] for p in pairs)
    mean = total_nll / total_tokens
    return {"pairs": [[a, b] for a, b in pairs], "mean_nll": mean, "perplexity": math.exp(mean),
            "total_tokens": total_tokens}


def main():
    os.makedirs(OUT, exist_ok=True)
    got = {"scikit-learn": sklearn.__version__, "nltk": nltk.__version__, "sacrebleu": sacrebleu.__version__,
           "jsonschema": __import__("importlib.metadata").metadata.version("jsonschema"),
           "rouge-score": __import__("importlib.metadata").metadata.version("rouge-score"),
           "numpy": np.__version__}
    pairs = make_pairs()
    files = {
        "classification.json": classification_fixture(),
        "qa.json": qa_fixture(pairs),
        "rouge.json": rouge_fixture(pairs),
        "porter.json": porter_fixture(),
        "bleu_chrf.json": bleu_chrf_fixture(pairs),
        "json_parse.json": json_docs(),
        "json_schema.json": schema_fixture(),
        "field_accuracy.json": field_fixture(),
        "lm.json": lm_fixture(),
    }
    for name, obj in files.items():
        write(name, obj)
    counts = {"pairs": len(pairs), "porter_words": len(files["porter.json"]["words"]),
              "classification_cases": len(files["classification.json"]),
              "schema_cases": len(files["json_schema.json"]["cases"]),
              "json_docs": len(files["json_parse.json"]), "field_cases": len(files["field_accuracy.json"])}
    write("manifest.json", {"generator": "tools/reference/metrics_fixtures.py", "versions": got, "counts": counts})
    print(json.dumps({"versions": got, "counts": counts}))


if __name__ == "__main__":
    main()
