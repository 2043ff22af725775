"""Writes data/examples/smoltalk-style.jsonl: ~200 short chats in OpenAI messages format, generated from our own
templates (arithmetic, capitals, unit conversions, short definitions) with a fixed seed. No copied text.

Every assistant answer starts with "Answer:" and ends with a one-line reason in brackets, a style SmolLM2-135M-Instruct
does not use on its own, so fine-tuning on this file measurably changes answers (count replies that start with
"Answer:" before and after training).

Run: python3 tools/reference/data_make_examples.py  (standard library only)
"""
import json
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "data", "examples", "smoltalk-style.jsonl")
rng = random.Random(2026)

CAPITALS = {
    "France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi", "Peru": "Lima", "Norway": "Oslo", "Canada": "Ottawa",
    "Egypt": "Cairo", "Australia": "Canberra", "Brazil": "Brasília", "India": "New Delhi", "Germany": "Berlin",
    "Italy": "Rome", "Spain": "Madrid", "Mexico": "Mexico City", "Argentina": "Buenos Aires", "Chile": "Santiago",
    "Sweden": "Stockholm", "Finland": "Helsinki", "Poland": "Warsaw", "Greece": "Athens", "Turkey": "Ankara",
    "Thailand": "Bangkok", "Vietnam": "Hanoi", "Portugal": "Lisbon", "Ireland": "Dublin", "Morocco": "Rabat",
    "Nigeria": "Abuja", "Ghana": "Accra", "Colombia": "Bogotá", "New Zealand": "Wellington",
}
DEFINITIONS = {
    "photosynthesis": "the process plants use to turn light, water and carbon dioxide into sugar and oxygen",
    "gravity": "the pull that masses exert on each other",
    "an atom": "the smallest unit of a chemical element",
    "a prime number": "a whole number above 1 whose only divisors are 1 and itself",
    "evaporation": "liquid turning into vapour below its boiling point",
    "a noun": "a word that names a person, place, thing or idea",
    "democracy": "government in which citizens choose their leaders by voting",
    "an algorithm": "a finite list of steps that solves a problem",
    "inflation": "a general rise in prices that lowers what money can buy",
    "a volcano": "an opening in the crust where molten rock reaches the surface",
    "friction": "the force that resists two surfaces sliding past each other",
    "a fraction": "a number that expresses part of a whole, such as 3/4",
    "an ecosystem": "living things and their environment interacting as one system",
    "a verb": "a word that describes an action or a state",
    "erosion": "the wearing away of land by water, wind or ice",
    "a mammal": "a warm-blooded animal that feeds its young with milk",
}
SYSTEMS = ["You are a concise assistant.", "Keep answers short.", "You are a helpful tutor."]


def arithmetic():
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    op = rng.choice(["+", "-", "×"])
    value = a + b if op == "+" else a - b if op == "-" else a * b
    q = rng.choice(["What is {a} {op} {b}?", "Compute {a} {op} {b}.", "Quick one: {a} {op} {b}"]).format(a=a, op=op, b=b)
    return q, f"Answer: {value}. [{a} {op} {b} = {value}]"


def capital():
    country = rng.choice(sorted(CAPITALS))
    q = rng.choice(["What is the capital of {c}?", "Name the capital city of {c}.", "{c}'s capital?"]).format(c=country)
    return q, f"Answer: {CAPITALS[country]}. [{CAPITALS[country]} is the capital of {country}]"


def conversion():
    kind = rng.choice(["km", "kg", "c", "in"])
    x = rng.randint(1, 200)
    if kind == "km":
        return f"Convert {x} km to miles.", f"Answer: {x * 0.621371:.2f} miles. [1 km = 0.621371 miles]"
    if kind == "kg":
        return f"How many pounds is {x} kg?", f"Answer: {x * 2.20462:.2f} lb. [1 kg = 2.20462 lb]"
    if kind == "c":
        return f"Convert {x} °C to Fahrenheit.", f"Answer: {x * 9 / 5 + 32:.1f} °F. [°F = °C × 9/5 + 32]"
    return f"How many centimetres are in {x} inches?", f"Answer: {x * 2.54:.2f} cm. [1 inch = 2.54 cm]"


def definition():
    term = rng.choice(sorted(DEFINITIONS))
    q = rng.choice(["Define {t}.", "What is {t}?", "In one sentence, what is {t}?"]).format(t=term)
    return q, f"Answer: {DEFINITIONS[term][0].upper() + DEFINITIONS[term][1:]}. [definition of {term}]"


rows, seen = [], set()
makers = [arithmetic, capital, conversion, definition]
while len(rows) < 200:
    messages = []
    if rng.random() < 0.25:
        messages.append({"role": "system", "content": rng.choice(SYSTEMS)})
    for _ in range(1 if rng.random() < 0.8 else 2):
        q, a = rng.choice(makers)()
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    key = json.dumps(messages)
    if key in seen:
        continue
    seen.add(key)
    rows.append({"messages": messages})

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w", encoding="utf-8") as f:
    for row in rows:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
print(len(rows), "conversations ->", OUT)
