"""Writes a 100,000-row chat dataset (OpenAI messages JSONL) for the `tailor prepare` throughput benchmark.
Usage: python3 tools/bench/make_prepare_corpus.py [OUT.jsonl]   (stdlib only; seeded)"""
import json
import random
import sys

random.seed(11)
cities = [("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Peru", "Lima"),
          ("Kenya", "Nairobi"), ("Norway", "Oslo"), ("Chile", "Santiago")]
out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/prepare-100k.jsonl"
with open(out, "w") as f:
    for i in range(100000):
        kind = i % 3
        if kind == 0:
            a, b = random.randint(2, 999), random.randint(2, 999)
            q, ans = f"What is {a} plus {b}?", f"Answer: {a + b}."
        elif kind == 1:
            c, k = random.choice(cities)
            q, ans = f"What is the capital of {c}? (question {i})", f"Answer: {k}."
        else:
            km = random.randint(1, 500)
            q, ans = f"Convert {km} km to metres.", f"Answer: {km * 1000} m."
        f.write(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": ans}]}) + "\n")
