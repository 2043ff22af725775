#!/usr/bin/env python3
"""Robustness corpus: every chat template llama.cpp ships (models/templates/*.jinja, ~70 real model templates),
rendered by transformers over three conversations with and without the generation prompt.

Pinned: transformers==5.24.0, tokenizers==0.23.3, jinja2==3.1.6 (see requirements-chat.txt).
Template source: the PyPI sdist llama_cpp_python==0.3.36, which vendors llama.cpp:
    /opt/refvenv/bin/pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36   (or fetch the sdist file)
    tar xzf llama_cpp_python-0.3.36.tar.gz llama_cpp_python-0.3.36/vendor/llama.cpp/models/templates
Run:
    /opt/refvenv/bin/python tools/reference/chat_template_corpus.py <dir with the .jinja files>

Rendering is PreTrainedTokenizerFast.apply_chat_template(tokenize=False) as in chat_templates.py, with bos "<s>",
eos "</s>", and strftime_now pinned to 2024-07-26 12:04:05 UTC (transformers' datetime is patched) so outputs are
reproducible. Writes Tests/TailorChatTests/Fixtures/template_corpus.json.
"""

import datetime as dt
import json
import os
import sys

import transformers
from transformers.utils import chat_template_utils

sys.path.insert(0, os.path.dirname(__file__))
from chat_templates import FIXTURES, SYSTEM, TOOL_CALL_OBJECT_ARGS, WEATHER_TOOL, make_tokenizer, try_render  # noqa: E402

CLOCK = 1721995445  # 2024-07-26 12:04:05 UTC


class _FixedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return dt.datetime.fromtimestamp(CLOCK, tz=dt.timezone.utc).replace(tzinfo=None)


CONVERSATIONS = {
    "single_user": ([{"role": "user", "content": "Hello"}], None),
    "system_multi_turn": ([SYSTEM, {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"},
                           {"role": "user", "content": "Who are you?"}], None),
    "tools_call": (TOOL_CALL_OBJECT_ARGS, [WEATHER_TOOL]),
}


def main():
    src = sys.argv[1]
    chat_template_utils.datetime = _FixedDatetime
    out = {
        "generator": {
            "script": "tools/reference/chat_template_corpus.py",
            "function": "transformers.PreTrainedTokenizerFast.apply_chat_template(tokenize=False)",
            "transformers": transformers.__version__,
            "templates_from": "llama_cpp_python-0.3.36 sdist, vendor/llama.cpp/models/templates",
            "clock": CLOCK,
        },
        "templates": {},
        "cases": [],
    }
    for fname in sorted(os.listdir(src)):
        if not fname.endswith(".jinja"):
            continue
        with open(os.path.join(src, fname), encoding="utf-8") as f:
            template = f.read()
        tok = make_tokenizer(template, "<s>", "</s>")
        out["templates"][fname] = template
        for conv_name, (messages, tools) in CONVERSATIONS.items():
            for gen in (False, True):
                case = {"template": fname, "conversation": conv_name, "add_generation_prompt": gen}
                case.update(try_render(tok, messages, tools, gen))
                out["cases"].append(case)
    out["conversations"] = {k: {"messages": m, "tools": t} for k, (m, t) in CONVERSATIONS.items()}
    path = os.path.join(FIXTURES, "template_corpus.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)
        f.write("\n")
    ok = sum(1 for c in out["cases"] if "expected" in c)
    print(f"wrote {path}: {len(out['templates'])} templates, {len(out['cases'])} cases ({ok} rendered)")


if __name__ == "__main__":
    main()
