"""Writes the example evaluation files under data/eval/ (used by the README and `tailor eval score`) and the scores
the reference libraries give for them, so the Swift tests can check MetricFileScorer end to end.

Pinned versions: see tools/reference/requirements-metrics.txt.
Run: /opt/refvenv/bin/python tools/reference/metrics_examples.py
Output: data/eval/*, Tests/TailorMetricsTests/Fixtures/eval/* (copies) and Fixtures/eval_expected.json.
"""
import json
import os
import shutil
import sys

import jsonschema
import numpy as np
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU, CHRF
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

sys.path.insert(0, os.path.dirname(__file__))
from metrics_fixtures import extract_json, field_accuracy_reference, squad_em, squad_f1  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "data", "eval")
FIX = os.path.join(ROOT, "Tests", "TailorMetricsTests", "Fixtures")

LABEL_PRED = ["positive", "negative", "negative", "neutral", "positive", "positive", "neutral", "negative"]
LABEL_REF = ["positive", "negative", "positive", "neutral", "neutral", "positive", "negative", "negative"]

QA = [
    ("Paris", ["Paris", "paris, France"]),
    ("the Eiffel Tower", ["Eiffel Tower"]),
    ("in 1889", ["1889"]),
    ("Gustave Eiffel's company", ["Gustave Eiffel", "the company of Gustave Eiffel"]),
    ("330 metres", ["330 m", "330 metres (1,083 ft)"]),
    ("wrought iron", ["wrought-iron lattice"]),
]

SUMMARIES = [
    ("The model was fine-tuned with LoRA on 2,000 examples.\nValidation loss fell from 2.1 to 1.4.",
     ["The model was fine-tuned using LoRA on 2,000 examples.\nIts validation loss dropped from 2.1 to 1.4.",
      "LoRA fine-tuning on 2k examples lowered validation loss to 1.4."]),
    ("Quantization to 4 bits cut memory use by 70%.",
     ["4-bit quantization reduced memory usage by about 70 percent."]),
    ("The cat sat on the mat.", ["A cat was sitting on the mat.", "The cat sat on a mat."]),
    ("Training stopped early because the loss diverged.",
     ["Training was stopped early after the loss diverged."]),
    ("", ["An empty prediction scores zero."]),
]

JSON_PRED = [
    '{"name": "Ada Lovelace", "born": 1815, "languages": ["English"], "role": "mathematician"}',
    '```json\n{"name": "Alan Turing", "born": 1912, "languages": ["English"], "role": "mathematician"}\n```',
    '{"name": "Grace Hopper", "born": "1906", "languages": ["English", "COBOL"], "role": "admiral"}',
    'Sure! {"name": "Linus"}',
    '{"name": "Edsger Dijkstra", "born": 1930, "languages": ["Dutch", "English"], "role": "computer scientist", '
    '"award": "Turing"}',
]
JSON_REF = [
    {"name": "Ada Lovelace", "born": 1815, "languages": ["English"], "role": "mathematician"},
    {"name": "Alan Turing", "born": 1912, "languages": ["English"], "role": "mathematician"},
    {"name": "Grace Hopper", "born": 1906, "languages": ["English"], "role": "computer scientist"},
    {"name": "Linus Torvalds", "born": 1969, "languages": ["Finnish", "English"], "role": "engineer"},
    {"name": "Edsger Dijkstra", "born": 1930, "languages": ["Dutch", "English"], "role": "computer scientist"},
]
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "born": {"type": "integer", "minimum": 0, "maximum": 2100},
        "languages": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "role": {"enum": ["mathematician", "computer scientist", "engineer", "admiral"]},
    },
    "required": ["name", "born", "languages", "role"],
    "additionalProperties": False,
}


def write_lines(name, lines):
    with open(os.path.join(DATA, name), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    os.makedirs(DATA, exist_ok=True)
    write_lines("labels_predictions.txt", LABEL_PRED)
    write_lines("labels_references.txt", LABEL_REF)
    write_lines("qa_predictions.jsonl", [json.dumps({"prediction": p}) for p, _ in QA])
    write_lines("qa_references.jsonl", [json.dumps({"references": r}) for _, r in QA])
    write_lines("summaries_predictions.jsonl", [json.dumps(p) for p, _ in SUMMARIES])
    write_lines("summaries_references.jsonl", [json.dumps({"references": r}) for _, r in SUMMARIES])
    write_lines("json_predictions.jsonl", [json.dumps({"prediction": p}) for p in JSON_PRED])
    write_lines("json_references.jsonl", [json.dumps({"reference": r}) for r in JSON_REF])
    with open(os.path.join(DATA, "person.schema.json"), "w", encoding="utf-8") as f:
        json.dump(SCHEMA, f, indent=2)
        f.write("\n")

    exp = {}
    p, r, f, _ = precision_recall_fscore_support(LABEL_REF, LABEL_PRED, average="macro", zero_division=0)
    exp["labels"] = {
        "accuracy": accuracy_score(LABEL_REF, LABEL_PRED), "macro_f1": f, "macro_precision": p, "macro_recall": r,
        "micro_f1": precision_recall_fscore_support(LABEL_REF, LABEL_PRED, average="micro", zero_division=0)[2],
        "weighted_f1": precision_recall_fscore_support(LABEL_REF, LABEL_PRED, average="weighted",
                                                       zero_division=0)[2]}
    exp["qa"] = {"exact_match": 100.0 * sum(max(squad_em(p, x) for x in r) for p, r in QA) / len(QA),
                 "f1": 100.0 * sum(max(squad_f1(p, x) for x in r) for p, r in QA) / len(QA)}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"])
    per = [scorer.score_multi(r, p) for p, r in SUMMARIES]
    exp["rouge"] = {}
    for t in ["rouge1", "rouge2", "rougeL", "rougeLsum"]:
        exp["rouge"][t] = float(np.mean([s[t].fmeasure for s in per]))
        exp["rouge"][t + "_precision"] = float(np.mean([s[t].precision for s in per]))
        exp["rouge"][t + "_recall"] = float(np.mean([s[t].recall for s in per]))
    hyps = [p for p, _ in SUMMARIES]
    streams = [[r[k] if k < len(r) else None for _, r in SUMMARIES] for k in range(2)]
    b = BLEU().corpus_score(hyps, streams)
    exp["bleu"] = {"bleu": b.score, "brevity_penalty": b.bp, "sys_len": b.sys_len, "ref_len": b.ref_len,
                   **{f"precision_{i + 1}": x for i, x in enumerate(b.precisions)}}
    exp["chrf"] = {"chrf": CHRF().corpus_score(hyps, streams).score}
    validator = jsonschema.Draft202012Validator(SCHEMA)
    parsed, extracted, valid, hit, total, macro = 0, 0, 0, 0, 0, 0.0
    for text, ref in zip(JSON_PRED, JSON_REF):
        try:
            json.loads(text)
            parsed += 1
        except ValueError:
            pass
        v = extract_json(text)
        if v is not None:
            extracted += 1
            valid += validator.is_valid(v[0])
        h, t = field_accuracy_reference(v[0] if v is not None else None, ref)
        hit += h
        total += t
        macro += h / t
    n = len(JSON_PRED)
    exp["json"] = {"parse_rate": parsed / n, "parse_rate_fenced": extracted / n, "schema_valid": valid / n,
                   "field_accuracy": hit / total, "field_accuracy_macro": macro / n}

    fix_eval = os.path.join(FIX, "eval")
    os.makedirs(fix_eval, exist_ok=True)
    for name in sorted(os.listdir(DATA)):
        shutil.copyfile(os.path.join(DATA, name), os.path.join(fix_eval, name))
    with open(os.path.join(FIX, "eval_expected.json"), "w", encoding="utf-8") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")
    print(json.dumps(exp, indent=1))


if __name__ == "__main__":
    main()
