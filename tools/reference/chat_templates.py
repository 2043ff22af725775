#!/usr/bin/env python3
"""Golden renderings of real chat templates for the TailorChat tests.

Pinned: transformers==5.24.0, tokenizers==0.23.3, jinja2==3.1.6 (see requirements-chat.txt).
Run:    /opt/refvenv/bin/python tools/reference/chat_templates.py

Reads the template texts in Tests/TailorChatTests/Fixtures/templates/*.jinja (provenance in SOURCES.md there) and
writes Tests/TailorChatTests/Fixtures/chat_templates.json with, for every template x conversation x
add_generation_prompt, the exact string returned by

    transformers.PreTrainedTokenizerFast.apply_chat_template(messages, tools=..., tokenize=False,
                                                             add_generation_prompt=...)

on a tiny WordLevel tokenizer whose chat_template, bos_token and eos_token are set to the model's values (the rendering
does not depend on the vocabulary). Errors are recorded as {"error": kind, "message": text}; kind "raised" is a
raise_exception() from the template itself.

For a ChatML template marked up with transformers' {% generation %} blocks (GENERATION_TEMPLATE), it records the
generation indices returned by transformers.utils.chat_template_utils.render_jinja_template(...,
return_assistant_tokens_mask=True) (the function apply_chat_template uses for assistant masks), as UTF-8 byte ranges.

It also writes reference assistant spans (UTF-8 byte ranges) computed by the incremental rule TailorChat implements:
for each assistant message i, P = render(messages[:i], add_generation_prompt=True) must be a prefix of the full
rendering T = render(messages, add_generation_prompt=False); the turn ends at the end of Q = render(messages[:i+1], False),
which must also be a prefix of T (or be one once a final eos the template appends is removed); leading newlines and
trailing whitespace of [len(P), end) are trimmed.
"""

import json
import os
import sys

import jinja2
import tokenizers
import transformers
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "TailorChatTests", "Fixtures")
TEMPLATES = os.path.join(FIXTURES, "templates")

# bos/eos as each model's tokenizer_config.json sets them (None: the model has no such token, so the template
# variable is undefined, as with the real tokenizer).
MODELS = {
    "smollm2": ("<|im_start|>", "<|im_end|>"),
    "qwen2.5": (None, "<|im_end|>"),
    "qwen3": (None, "<|im_end|>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama2": ("<s>", "</s>"),
    "mistral": ("<s>", "</s>"),
    "gemma2": ("<bos>", "<eos>"),
    "gemma3": ("<bos>", "<eos>"),
    "phi3": ("<s>", "<|endoftext|>"),
    "chatglm4": (None, "<|endoftext|>"),
    "deepseek-v2": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "deepseek-v3": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
}

SYSTEM = {"role": "system", "content": "You are a helpful assistant"}
MULTI = [
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]
ENDS_ASSISTANT = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "2 + 2 = 4."},
]
UNICODE = [
    {"role": "user", "content": "Grüße, 世界! 🙂 \"quotes\" and \\backslash"},
    {"role": "assistant", "content": "Ça va?\n\tTabs & <tags> {{ not jinja }}"},
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
TOOL_CALL_OBJECT_ARGS = [
    {"role": "user", "content": "What's the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}}
    ]},
    {"role": "tool", "name": "get_weather", "content": "{\"temperature\": 22}"},
    {"role": "assistant", "content": "It is 22 °C in Paris."},
]
TOOL_CALL_STRING_ARGS = [
    {"role": "user", "content": "What's the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": "{\"location\": \"Paris\"}"}}
    ]},
    {"role": "tool", "content": "{\"temperature\": 22}"},
    {"role": "assistant", "content": "It is 22 °C in Paris."},
]
# DeepSeek-V3's template branches on `content is none`; apply_chat_template drops None-valued keys, so the
# template then adds an undefined value to a string and jinja2 raises UndefinedError.
TOOL_CALL_NONE_CONTENT = [
    {"role": "user", "content": "What's the weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": "{\"location\": \"Paris\"}"}}
    ]},
]
# Qwen3 keeps <think>…</think> only on assistant turns after the last user query (and splits it off content).
QWEN3_THINKING = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4."},
    {"role": "user", "content": "And 3+3?"},
    {"role": "assistant", "content": "<think>\nagain\n</think>\n\n6."},
]
GLM_TOOLS = [
    {"role": "system", "content": "", "tools": [WEATHER_TOOL]},
    {"role": "user", "content": "What's the weather in Paris?"},
    {"role": "assistant", "content": "get_weather\n{\"location\": \"Paris\"}"},
]

COMMON = {
    "single_user": ([{"role": "user", "content": "Hello"}], None),
    "system_user": ([SYSTEM, {"role": "user", "content": "Hello"}], None),
    "multi_turn": (MULTI, None),
    "system_multi_turn": ([SYSTEM] + MULTI, None),
    "ends_with_assistant": (ENDS_ASSISTANT, None),
    "system_ends_with_assistant": ([SYSTEM] + MULTI + [{"role": "assistant", "content": "Sure, ask away."}], None),
    "unicode": (UNICODE, None),
    "not_alternating": ([{"role": "user", "content": "A"}, {"role": "user", "content": "B"}], None),
}
EXTRA = {
    "qwen2.5": {
        "tools_prompt": ([{"role": "user", "content": "What's the weather in Paris?"}], [WEATHER_TOOL]),
        "tools_call": (TOOL_CALL_OBJECT_ARGS, [WEATHER_TOOL]),
        "system_tools_call": ([SYSTEM] + TOOL_CALL_OBJECT_ARGS, [WEATHER_TOOL]),
    },
    "llama3": {
        "tools_prompt": ([{"role": "user", "content": "What's the weather in Paris?"}], [WEATHER_TOOL]),
        "tools_call": (TOOL_CALL_OBJECT_ARGS, [WEATHER_TOOL]),
    },
    "qwen3": {
        "tools_prompt": ([{"role": "user", "content": "What's the weather in Paris?"}], [WEATHER_TOOL]),
        "tools_call": (TOOL_CALL_OBJECT_ARGS, [WEATHER_TOOL]),
        "system_tools_call": ([SYSTEM] + TOOL_CALL_OBJECT_ARGS, [WEATHER_TOOL]),
        "tool_string_args": (TOOL_CALL_STRING_ARGS, [WEATHER_TOOL]),
        "thinking": (QWEN3_THINKING, None),
    },
    "chatglm4": {"tools_in_message": (GLM_TOOLS, None)},
    "deepseek-v3": {
        "tool_outputs": (TOOL_CALL_STRING_ARGS, None),
        "tool_call_none_content": (TOOL_CALL_NONE_CONTENT, None),
    },
}


# SmolLM2's ChatML template with the assistant text and end marker inside {% generation %} (TRL-style).
GENERATION_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def generation_cases():
    from transformers.utils.chat_template_utils import render_jinja_template

    cases = []
    for conv_name in ("multi_turn", "system_ends_with_assistant", "unicode"):
        messages = COMMON[conv_name][0]
        rendered, indices = render_jinja_template(
            conversations=[messages], chat_template=GENERATION_TEMPLATE, return_assistant_tokens_mask=True,
            add_generation_prompt=False, bos_token="<|im_start|>", eos_token="<|im_end|>")
        text = rendered[0]
        spans = [[utf8_len(text[:a]), utf8_len(text[:b])] for a, b in indices[0]]
        cases.append({"conversation": conv_name, "messages": messages, "text": text, "spans": spans})
    return {"template": GENERATION_TEMPLATE, "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "cases": cases}


def make_tokenizer(template, bos, eos):
    vocab = {"<unk>": 0}
    for tok in (bos, eos):
        if tok is not None and tok not in vocab:
            vocab[tok] = len(vocab)
    backend = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    kwargs = {"tokenizer_object": backend}
    if bos is not None:
        kwargs["bos_token"] = bos
    if eos is not None:
        kwargs["eos_token"] = eos
    tok = PreTrainedTokenizerFast(**kwargs)
    tok.chat_template = template
    return tok


def render(tok, messages, tools, gen):
    return tok.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=gen)


def try_render(tok, messages, tools, gen):
    try:
        return {"expected": render(tok, messages, tools, gen)}
    except jinja2.exceptions.UndefinedError as e:
        return {"error": "undefined", "message": str(e)}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception() raises a bare TemplateError carrying the template's own message
        kind = "raised" if type(e) is jinja2.exceptions.TemplateError else "template"
        return {"error": kind, "message": str(e)}
    except Exception as e:  # noqa: BLE001 - any other failure is recorded, the Swift side must throw too
        return {"error": "other", "message": f"{type(e).__name__}: {e}"}


def utf8_len(s):
    return len(s.encode("utf-8"))


def reference_spans(tok, messages, tools):
    full = render(tok, messages, tools, False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prefix = render(tok, messages[:i], tools, True) if i > 0 else render(tok, [], tools, True)
        if not full.startswith(prefix):
            return {"text": full, "error": "notPrefixStable", "turn": i}
        turn = render(tok, messages[: i + 1], tools, False)
        eos = tok.eos_token
        if full.startswith(turn):
            end = len(turn)
        elif eos and turn.endswith(eos) and full.startswith(turn[: -len(eos)]):
            # the template closes a conversation with eos when no generation prompt follows (Phi-3)
            end = len(turn) - len(eos)
        else:
            return {"text": full, "error": "notPrefixStable", "turn": i}
        start = len(prefix)
        piece = full[start:end]
        lead = len(piece) - len(piece.lstrip("\r\n"))
        trail = len(piece) - len(piece.rstrip())
        s, e = start + lead, end - trail
        if e <= s:
            continue
        spans.append([utf8_len(full[:s]), utf8_len(full[:e])])
    return {"text": full, "spans": spans}


def main():
    names = sorted(MODELS)
    out = {
        "generator": {
            "script": "tools/reference/chat_templates.py",
            "function": "transformers.PreTrainedTokenizerFast.apply_chat_template(tokenize=False)",
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "jinja2": jinja2.__version__,
        },
        "templates": {},
        "cases": [],
        "spans": [],
    }
    for name in names:
        bos, eos = MODELS[name]
        with open(os.path.join(TEMPLATES, name + ".jinja"), encoding="utf-8") as f:
            template = f.read()
        out["templates"][name] = {"file": "templates/" + name + ".jinja", "bos_token": bos, "eos_token": eos}
        tok = make_tokenizer(template, bos, eos)
        convs = dict(COMMON)
        convs.update(EXTRA.get(name, {}))
        for conv_name, (messages, tools) in convs.items():
            for gen in (False, True):
                case = {"template": name, "conversation": conv_name, "add_generation_prompt": gen,
                        "messages": messages, "tools": tools}
                case.update(try_render(tok, messages, tools, gen))
                out["cases"].append(case)
            if any(m["role"] == "assistant" for m in messages) and "expected" in try_render(tok, messages, tools, False):
                try:
                    sp = reference_spans(tok, messages, tools)
                except Exception as e:  # noqa: BLE001 - a prefix that cannot render is recorded as such
                    sp = {"error": "render", "message": str(e)}
                sp.update({"template": name, "conversation": conv_name, "messages": messages, "tools": tools})
                out["spans"].append(sp)
    out["generation"] = generation_cases()
    path = os.path.join(FIXTURES, "chat_templates.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_ok = sum(1 for c in out["cases"] if "expected" in c)
    print(f"wrote {path}: {len(out['cases'])} cases ({n_ok} rendered, {len(out['cases']) - n_ok} errors), "
          f"{len(out['spans'])} span cases", file=sys.stderr)


if __name__ == "__main__":
    main()
