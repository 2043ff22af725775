"""Reads the TensorBoard event files of a `tailor train --report-to tensorboard` run with TensorBoard's own
EventAccumulator and compares every scalar with the run's metrics.jsonl.

    /opt/refvenv/bin/python tools/reference/check_tensorboard.py runs/dates-lora

Checks: every tag maps to a metrics.jsonl key (HF Trainer's names: train/loss, eval/loss, ...); every scalar equals
the file's value rounded to float32 (TensorBoard's simple_value is a float); every metrics.jsonl value has its
scalar; the configuration text summary is present. Versions: see requirements-tensorboard.txt.
"""
import json
import os
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

# TensorBoard tag -> metrics.jsonl key.
TAGS = {
    "train/loss": "loss", "train/learning_rate": "learning_rate", "train/grad_norm": "grad_norm",
    "train/epoch": "epoch", "train/tokens": "tokens", "train/seconds": "seconds", "train/samples": "samples",
    "train/peak_memory_bytes": "peak_memory_bytes", "eval/loss": "eval_loss", "eval/runtime": "eval_seconds",
}


def main(out):
    records = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl")) if line.strip()]
    logging = json.load(open(os.path.join(out, "training_config.json"))).get("logging_steps", 1)
    acc = EventAccumulator(os.path.join(out, "runs"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    unknown = sorted(set(tags["scalars"]) - set(TAGS))
    assert not unknown, f"tags without a metrics.jsonl key: {unknown}"
    assert "args" in tags["tensors"], f"no configuration text summary (tensors: {tags['tensors']})"
    last = records[-1]["step"]
    by_record = {r["step"]: r for r in records}
    compared = 0
    for tag, key in TAGS.items():
        by_step = {r["step"]: r[key] for r in records if key in r}
        # The trainer logs every logging_steps, at the last step and at every evaluation.
        expected = {s: v for s, v in by_step.items()
                    if s % logging == 0 or s == last or by_record[s].get("eval_loss") is not None}
        events = acc.Scalars(tag) if tag in tags["scalars"] else []
        got = {e.step: e.value for e in events}
        assert set(got) == set(expected), f"{tag}: steps {sorted(got)} in TensorBoard, {sorted(expected)} in metrics.jsonl"
        for step, value in expected.items():
            want = float(np.float32(value))
            assert got[step] == want, f"{tag} step {step}: TensorBoard {got[step]!r}, metrics.jsonl {value!r} (float32 {want!r})"
            compared += 1
        print(f"{tag:26s} {len(got):4d} scalars equal metrics.jsonl['{key}']")
    print(f"OK: {compared} scalars in {len(tags['scalars'])} tags match {len(records)} metrics.jsonl records; "
          f"configuration text present")


if __name__ == "__main__":
    main(sys.argv[1])
