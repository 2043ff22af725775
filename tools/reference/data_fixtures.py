"""Reference fixtures for TailorData (token ids, assistant-only masks, TRL rules, length grouping).

Pinned: transformers 5.24.0, tokenizers 0.23.3, torch 2.15.0 (see requirements-data.txt).
Run: /opt/refvenv/bin/python tools/reference/data_fixtures.py
Writes Tests/TailorDataTests/Fixtures/smollm2_masks.json and length_grouping.json.

Masks. Conversations use SmolLM2-135M-Instruct's tokenizer.json and its chat template (compatibility.md §6.8).
transformers' `return_assistant_tokens_mask` needs {% generation %} blocks, so the reference renders the same
template with the assistant turn's `content + '<|im_end|>'` wrapped in a generation block (the way TRL's
assistant_only_loss templates mark trained text) and takes `assistant_masks` from
`apply_chat_template(tokenize=True, return_dict=True, return_assistant_tokens_mask=True)`: a token is trained when it
overlaps a generation span. The ids come from the unmodified template (asserted to render the same text).
Assistant contents never start with a newline: Tailor's span finder (TailorChat.assistantSpans) trims leading
newlines of a turn, the generation-block reference does not; that case is documented, not tested.

Prompt/completion and plain text follow TRL's SFTTrainer (trl 0.2x `_prepare_dataset`): EOS text appended unless
present; prompt ids = tokenizer(prompt); ids = tokenizer(prompt + completion); completion mask = positions ≥
len(prompt ids). Text: ids = tokenizer(text + eos), all trained.

Length grouping: transformers.trainer_pt_utils.get_length_grouped_indices with a seeded torch generator; the
permutation torch.randperm draws from the same seed is stored so the Swift side can take it as input.
"""
import json
import os
import random

import torch
import transformers
from transformers import AutoTokenizer
from transformers.trainer_pt_utils import get_length_grouped_indices

assert transformers.__version__ == "5.24.0", transformers.__version__
assert torch.__version__.startswith("2.15"), torch.__version__

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Tests", "TailorDataTests", "Fixtures")
TOK_DIR = os.path.join(FIX, "smollm2")

TEMPLATE = open(os.path.join(TOK_DIR, "chat_template.jinja")).read()
GEN_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\n' }}{% generation %}"
    "{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

tok = AutoTokenizer.from_pretrained(TOK_DIR)
EOS = tok.eos_token
assert EOS == "<|im_end|>"

rng = random.Random(20261129)
USER = [
    "What is {a} plus {b}?", "Name the capital of {c}.", "Convert {a} km to miles.", "Define '{w}' in one line.",
    "¿Cuánto es {a} × {b}?", "请用一句话解释{w}。", "Écris une phrase sur {c} 🇫🇷", "Explain:\n- {w}\n- {c}",
    "Write Python that prints {a}.", "ما هي عاصمة {c}؟", "Summarise   this:  {w} {w} {w}", "Why is the sky blue? 🤔",
]
ASSIST = [
    "{a} plus {b} is {s}.", "The capital is {c}.", "{a} km is about {m} miles.", "{w}: a short definition.",
    "Son {p}. ✅", "{w}是一个概念。", "{c} est magnifique — vraiment !", "Sure:\n1. {w}\n2. {c}\n",
    "```python\nprint({a})\n```", "العاصمة هي {c}.", "  Leading spaces then text about {w}.", "Trailing spaces {w}   ",
    "Tabs\tand  double  spaces {a}", "Ünïcödé ñ {w} — naïve café", "emoji 😀😃🎉 {a}", "Combining e\u0301 and 한국어 {w}",
    "{a}<{b} and {b}>{a} are comparisons.", "Empty-ish", "Line one\n\nLine three {w}",
]
WORDS = ["entropy", "photosynthesis", "gradient", "tokenizer", "inflation", "osmosis", "recursion", "latency"]
CITIES = ["France", "Japan", "Kenya", "Peru", "Norway", "Viet Nam", "Égypte", "Ísland"]


def fill(t):
    a, b = rng.randint(0, 999), rng.randint(0, 999)
    return t.format(a=a, b=b, s=a + b, p=a * b, m=round(a * 0.621371, 2), w=rng.choice(WORDS), c=rng.choice(CITIES))


conversations = []
for i in range(64):
    messages = []
    if i % 3 == 0:
        messages.append({"role": "system", "content": fill(rng.choice(["You are terse.", "Réponds en français.", "You are a maths tutor. Be exact about {a}."]))})
    for _ in range(1 + (i % 4 if i % 2 else 0)):
        messages.append({"role": "user", "content": fill(rng.choice(USER))})
        messages.append({"role": "assistant", "content": fill(rng.choice(ASSIST))})
    conversations.append(messages)

conv_out = []
for messages in conversations:
    text = tok.apply_chat_template(messages, tokenize=False, chat_template=TEMPLATE)
    gen_text = tok.apply_chat_template(messages, tokenize=False, chat_template=GEN_TEMPLATE)
    assert text == gen_text, (text, gen_text)
    out = tok.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True,
                                  chat_template=GEN_TEMPLATE)
    ids = tok.apply_chat_template(messages, tokenize=True, return_dict=True, chat_template=TEMPLATE)["input_ids"]
    assert list(out["input_ids"]) == list(ids)
    conv_out.append({"messages": messages, "text": text, "input_ids": list(ids), "assistant_mask": list(out["assistant_masks"])})

pc_out = []
for i in range(12):
    prompt = fill(rng.choice(USER)) + ("\n" if i % 2 else " ")
    completion = fill(rng.choice(ASSIST)) + (EOS if i % 5 == 0 else "")
    completion_eos = completion if completion.endswith(EOS) else completion + EOS
    prompt_ids = tok(text=prompt)["input_ids"]
    ids = tok(text=prompt + completion_eos)["input_ids"]
    # TRL only warns when the prompt ids are not a prefix (a trailing space merges into the completion).
    pc_out.append({"prompt": prompt, "completion": completion, "input_ids": ids,
                   "completion_mask": [0] * len(prompt_ids) + [1] * (len(ids) - len(prompt_ids))})

text_out = []
for i in range(8):
    text = fill(rng.choice(ASSIST)) + " " + fill(rng.choice(USER)) + (EOS if i == 3 else "")
    ids = tok(text=text if text.endswith(EOS) else text + EOS)["input_ids"]
    text_out.append({"text": text, "input_ids": ids})

with open(os.path.join(FIX, "smollm2_masks.json"), "w") as f:
    json.dump({"generator": "tools/reference/data_fixtures.py", "transformers": transformers.__version__,
               "mask_rule": "transformers return_assistant_tokens_mask over {% generation %}content+<|im_end|>{% endgeneration %}",
               "template": TEMPLATE, "conversations": conv_out, "prompt_completion": pc_out, "text": text_out},
              f, ensure_ascii=False, indent=0)

cases = []
for seed, (n, bs, mult) in enumerate([(10, 2, None), (37, 4, None), (200, 4, None), (1000, 3, None), (64, 8, 2), (5, 8, None), (450, 2, None)]):
    r = random.Random(seed)
    lengths = [r.randint(1, 40) for _ in range(n)]  # many ties: checks the stable sort
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    got = get_length_grouped_indices(lengths, bs, mega_batch_mult=mult, generator=torch.Generator().manual_seed(seed))
    cases.append({"lengths": lengths, "batch_size": bs, "mega_batch_mult": mult, "permutation": perm, "expected": got})
with open(os.path.join(FIX, "length_grouping.json"), "w") as f:
    json.dump({"generator": "tools/reference/data_fixtures.py", "cases": cases}, f)
print("conversations", len(conv_out), "prompt/completion", len(pc_out), "text", len(text_out), "grouping", len(cases))
