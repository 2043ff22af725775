#!/usr/bin/env python3
"""Writes the sample fine-tuning task of the main job: dates written out in words -> ISO 8601 (YYYY-MM-DD).

Why this task: base SmolLM2-135M-Instruct answers in prose or echoes the date (1 of the 50 held-out rows right),
while a LoRA adapter learns the month table and zero-padding in a few dozen steps, and every answer is checkable
(exactly one right string per row). Plain Python standard library, seeded, deterministic:

    python3 tools/data/make_sample_task.py            # -> data/dates/train.jsonl, data/dates/eval.jsonl

train.jsonl: OpenAI chat rows (system, user, assistant). eval.jsonl: the held-out split in the same layout; its final
assistant message is the reference answer that `tailor eval --task qa` scores exact match against, and `tailor train
--eval-data` computes the validation loss on. No held-out date (day, month and year) occurs in train.jsonl.
"""
import argparse
import datetime
import json
import pathlib
import random

SYSTEM = "Convert the date to the format YYYY-MM-DD. Reply with the date only."
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FIRST, LAST = datetime.date(1900, 1, 1).toordinal(), datetime.date(2099, 12, 31).toordinal()


def ordinal(day):
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def spell(date, style):
    """The date in words, in one of four styles a person writes."""
    month = MONTHS[date.month - 1]
    if style == 0:
        return f"{month} {date.day}, {date.year}"            # March 5, 2024
    if style == 1:
        return f"{date.day} {month} {date.year}"             # 5 March 2024
    if style == 2:
        return f"{month[:3]} {date.day}, {date.year}"        # Mar 5, 2024
    return f"the {ordinal(date.day)} of {month}, {date.year}"  # the 5th of March, 2024


def row(date, rng):
    return {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": spell(date, rng.randrange(4))},
                         {"role": "assistant", "content": date.isoformat()}]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "data" / "dates"))
    parser.add_argument("--train", type=int, default=320)
    parser.add_argument("--eval", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20241129)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # Distinct dates, so that the held-out rows ask for dates the model never saw during training.
    dates = set()
    while len(dates) < args.train + args.eval:
        dates.add(datetime.date.fromordinal(rng.randint(FIRST, LAST)))
    ordered = sorted(dates)
    rng.shuffle(ordered)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in [("train.jsonl", ordered[:args.train]), ("eval.jsonl", ordered[args.train:])]:
        with open(out / name, "w", encoding="utf-8", newline="\n") as f:
            for date in part:
                f.write(json.dumps(row(date, rng), ensure_ascii=False) + "\n")
        print(f"wrote {out / name}: {len(part)} rows")


if __name__ == "__main__":
    main()
