"""Seeded generator of the prediction/reference text corpus used by the TailorMetrics fixtures.

Deterministic for a given seed (Python's `random.Random`); no reference library is imported here.
"""
import random

# Words chosen to exercise the Porter stemmer (plural, -ing, -ed, -ational, -ness, ...), SQuAD article removal,
# sacrebleu's 13a punctuation rules, and unicode handling.
STEM_WORDS = """
running runs ran runner happily happiness happy relational conditional rational generalization generalizations
hopefulness goodness callousness formalize electrical electricity adjustable adjustment dependent adoption
communism activate effective bowdlerize caresses ponies ties cats feed agreed plastered bled motoring sing
conflated troubled sized hopping tanned falling hissing fizzed failing filing happy sky skies dying lying tying
news innings outings cannings proceed exceed succeed controlling rolled generously operator feudalism
decisiveness sensitivity sensibility triplicate formative allowance inference airliner gyroscopic defensible
irritant replacement homologous analogously vietnamization predication hesitancy digitizer conformably
radically differently vilely fully logically archaeology biology studies studied studying tried cries flies
""".split()

COMMON_WORDS = """
the a an of to and in is was for on with as by at from that this it be are were model models training trained
data dataset token tokens loss gradient learning rate batch epoch small large fast slow quick brown fox jumps
over lazy dog cat sat mat answer question paris london berlin city river mountain red green blue value values
""".split()

NUMBERS = ["1", "2", "3", "42", "3.14", "1,000", "2024", "1990-2000", "0.5", "10%", "$5", "7th", "1e-3", "99"]

PUNCT = [".", ",", "!", "?", ";", ":", "'", "\"", "(", ")", "-", "--", "...", "/", "&", "@", "#", "[", "]", "{", "}"]

UNICODE_WORDS = ["café", "naïve", "Zürich", "São", "Ελληνικά", "ΟΔΟΣ", "中文", "日本語", "🙂", "façade", "İstanbul",
                 "straße", "Ångström", "ﬁne", "K", "ǅemal", "résumé", "coöperate"]

ENTITY_BITS = ["&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "hy-\nphen", "don't", "U.S.", "e.g.", "a.m.", "x,y"]

SPACES = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u3000", " \n "]


def _word(rng):
    r = rng.random()
    if r < 0.40:
        return rng.choice(COMMON_WORDS)
    if r < 0.65:
        return rng.choice(STEM_WORDS)
    if r < 0.75:
        return rng.choice(NUMBERS)
    if r < 0.85:
        return rng.choice(PUNCT)
    if r < 0.93:
        return rng.choice(UNICODE_WORDS)
    return rng.choice(ENTITY_BITS)


def _case(rng, w):
    r = rng.random()
    if r < 0.15:
        return w.capitalize()
    if r < 0.2:
        return w.upper()
    return w


def _join(rng, words):
    out = ""
    for i, w in enumerate(words):
        if i:
            # Attach punctuation to the previous word sometimes, as real text does.
            out += "" if (w in PUNCT and rng.random() < 0.5) else rng.choice(SPACES)
        out += w
    return out


def _sentence(rng, n):
    words = [_case(rng, _word(rng)) for _ in range(n)]
    if words and rng.random() < 0.6:
        words[-1] = words[-1] + rng.choice([".", ".", "!", "?"])
    return words


def _perturb(rng, words):
    words = list(words)
    for _ in range(rng.randint(0, 4)):
        op = rng.random()
        if not words:
            words.append(_word(rng))
            continue
        i = rng.randrange(len(words))
        if op < 0.25:
            del words[i]
        elif op < 0.5:
            words[i] = _word(rng)
        elif op < 0.65:
            words.insert(i, words[i])  # repeated words
        elif op < 0.8 and len(words) > 1:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
        elif op < 0.9:
            words[i] = words[i].lower() if rng.random() < 0.5 else words[i].upper()
        else:
            words.insert(i, rng.choice(["the", "a", "an", "The", "A"]))
    return words


def make_pairs(seed=20261129, count=400):
    """Returns a list of dicts {prediction, references: [r1, r2, r3]} (references[0] is the primary one)."""
    rng = random.Random(seed)
    pairs = []
    for k in range(count):
        kind = rng.random()
        n = rng.randint(1, 18)
        ref_words = _sentence(rng, n)
        if rng.random() < 0.2:  # multi-sentence texts for ROUGE-Lsum
            ref_words = ref_words + ["\n"] + _sentence(rng, rng.randint(1, 10))
        if kind < 0.08:
            pred_words = list(ref_words)  # identical
        elif kind < 0.16:
            pred_words = _sentence(rng, rng.randint(1, 12))  # unrelated
        else:
            pred_words = _perturb(rng, ref_words)
        ref = _join(rng, [w for w in ref_words]).replace(" \n ", "\n")
        pred = _join(rng, pred_words).replace(" \n ", "\n")
        others = [_join(rng, _perturb(rng, ref_words)) for _ in range(2)]
        # Empty strings on either side, and whitespace-only text.
        if k % 53 == 7:
            pred = ""
        if k % 61 == 11:
            ref = ""
        if k % 67 == 13:
            pred = "   "
        if k == 5:
            pred, ref = "", ""
        pairs.append({"prediction": pred, "references": [ref] + others})
    # Short QA-style answers, where SQuAD normalisation matters most.
    qa = [("The Eiffel Tower", ["Eiffel Tower", "the eiffel tower."]), ("an apple", ["apple", "A pear"]),
          ("Paris, France!", ["Paris", "paris france"]), ("1,000", ["1000", "one thousand"]),
          ("the the the", ["the"]), ("", ["", "x"]), ("Zürich", ["zurich", "ZÜRICH"]),
          ("theory of the atom", ["atom theory", "the theory of atoms"]), ("A-B", ["ab", "a b"]),
          ("ΟΔΟΣ", ["οδος", "οδοσ"]), ("thé", ["th", "thé"]), ("an_apple", ["an apple", "apple"])]
    for pred, refs in qa:
        pairs.append({"prediction": pred, "references": (refs + refs[:1] * 3)[:3]})
    return pairs


def porter_words(site_packages_texts, limit=12000, seed=7):
    """Distinct lowercase [a-z0-9]+ tokens gathered from English text, plus the corpus stemming words."""
    import re
    words = set(STEM_WORDS)
    for text in site_packages_texts:
        for w in re.findall(r"[a-z0-9]+", text.lower()):
            if 1 <= len(w) <= 24:
                words.add(w)
    words = sorted(words)
    rng = random.Random(seed)
    if len(words) > limit:
        words = sorted(rng.sample(words, limit))
    return words
