#!/usr/bin/env python3
"""Writes the preference set of the sample task (dates in words -> ISO 8601), for DPO/ORPO/SimPO after SFT.

Each row is TRL's conversational preference format: "prompt" (system + user messages of a row of
data/dates/{train,eval}.jsonl), "chosen" (the bare ISO date, as the SFT data answers) and "rejected" (a chatty reply
or a wrongly formatted date: what base SmolLM2-135M-Instruct tends to write), and "check": {"regex": ...}, the chosen
style (a bare ISO date) that `tailor eval --task preference` tests greedy replies against. Standard library, seeded:

    python3 tools/data/make_sample_task.py && python3 tools/data/make_preference_task.py
    # -> data/dates/prefs.jsonl (from train.jsonl), data/dates/prefs_eval.jsonl (from eval.jsonl)
"""
import argparse
import datetime
import json
import pathlib
import random

CHATTY = ["Sure! The date is {iso}.", "The date in the format YYYY-MM-DD is {iso}.", "{iso} is the date you asked for.",
          "Here it is: {iso}"]
ISO_ONLY = r"^\s*\d{4}-\d{2}-\d{2}\s*$"
WRONG = ["{m:02d}/{d:02d}/{y}", "{d:02d}-{m:02d}-{y}", "{y}/{m}/{d}", "{y}-{m}-{d}", "{d}.{m}.{y}"]


def rejected(iso, rng):
    date = datetime.date.fromisoformat(iso)
    if rng.random() < 0.5:
        return rng.choice(CHATTY).format(iso=iso)
    # A wrong layout that differs from the ISO string (y-m-d without zero padding equals it for two-digit months/days).
    options = [w.format(y=date.year, m=date.month, d=date.day) for w in WRONG]
    return rng.choice([o for o in options if o != iso])


def convert(source, target, rng):
    with open(source) as f, open(target, "w") as out:
        for line in f:
            messages = json.loads(line)["messages"]
            iso = messages[-1]["content"]
            row = {"prompt": messages[:-1], "chosen": [{"role": "assistant", "content": iso}],
                   "rejected": [{"role": "assistant", "content": rejected(iso, rng)}], "check": {"regex": ISO_ONLY}}
            out.write(json.dumps(row) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=str(pathlib.Path(__file__).resolve().parents[2] / "data" / "dates"))
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    d = pathlib.Path(args.dir)
    convert(d / "train.jsonl", d / "prefs.jsonl", rng)
    convert(d / "eval.jsonl", d / "prefs_eval.jsonl", rng)


if __name__ == "__main__":
    main()
