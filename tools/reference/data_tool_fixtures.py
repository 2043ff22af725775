"""Reference fixtures for tool-calling rows in TailorData (`prepare`): token ids and assistant masks.

Pinned: transformers 5.24.0, tokenizers 0.23.3 (see requirements-data.txt; made with torch 2.13.0+cpu, which this
script does not use). Run: /opt/refvenv/bin/python tools/reference/data_tool_fixtures.py
Writes Tests/TailorDataTests/Fixtures/tool_rows.json.

Rows are chats with a top-level `tools` list, assistant turns with `tool_calls` (content "" or null) and `tool`
results, tokenized with SmolLM2-135M-Instruct's tokenizer (Fixtures/smollm2) under Tailor's built-in templates:
- "qwen2.5-generation": Qwen2.5-Instruct's template with each assistant turn's text, tool calls and <|im_end|> inside
  {% generation %} blocks. ids and masks are transformers' `apply_chat_template(tools=, tokenize=True,
  return_dict=True, return_assistant_tokens_mask=True)`: its `assistant_masks` are the reference.
- "qwen2.5", "llama3" (no generation blocks): ids from `apply_chat_template(tools=, tokenize=True)`; the mask is the
  rule Tailor uses for templates without generation blocks (chat_templates.reference_spans: the text a turn adds
  after the generation prompt, up to and including its end marker; a token is trained when its byte range overlaps
  a span), computed here from transformers' renderings and the tokenizer's offsets.
- "chatml" (SmolLM2's own template) never reads `tools` or `tool_calls`: `expected: "dropped"` (Tailor counts the
  row under "tools-not-in-template" instead of training an empty turn).
"""
import json
import os
import sys

import transformers
from transformers import AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_templates import reference_spans  # noqa: E402

if not os.environ.get("TAILOR_REF_ANY_VERSION"):
    assert transformers.__version__ == "5.24.0", transformers.__version__

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Tests", "TailorDataTests", "Fixtures")
TEMPLATES = os.path.join(ROOT, "Tests", "TailorChatTests", "Fixtures", "templates")

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                   "required": ["city"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "Local time in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def call(name, **args):
    return {"type": "function", "function": {"name": name, "arguments": args}}


ROWS = [
    {"tools": [WEATHER], "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call("get_weather", city="Paris")]},
        {"role": "tool", "content": "{\"temp\": 22, \"unit\": \"c\"}"},
        {"role": "assistant", "content": "It is 22 °C in Paris."}]},
    {"tools": [WEATHER, TIME], "messages": [
        {"role": "system", "content": "You are a travel helper."},
        {"role": "user", "content": "What time is it in Tōkyō, and is it raining?"},
        {"role": "assistant", "content": None, "tool_calls": [call("get_time", city="Tōkyō")]},
        {"role": "tool", "content": "09:15"},
        {"role": "assistant", "content": None, "tool_calls": [call("get_weather", city="Tōkyō", unit="c")]},
        {"role": "tool", "content": "{\"rain\": true}"},
        {"role": "assistant", "content": "It is 09:15 and raining in Tōkyō ☔."}]},
    {"tools": [WEATHER], "messages": [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello — ask me about the weather."}]},
]
# Two calls in one turn: Qwen2.5 renders both; Llama 3's template raises ("only supports single tool-calls").
PARALLEL = {"tools": [WEATHER, TIME], "messages": [
    {"role": "user", "content": "Weather and time in Oslo?"},
    {"role": "assistant", "content": "Checking both.", "tool_calls": [call("get_weather", city="Oslo"), call("get_time", city="Oslo")]},
    {"role": "tool", "content": "{\"temp\": -3}"},
    {"role": "tool", "content": "18:40"},
    {"role": "assistant", "content": "-3 °C at 18:40."}]}


def generation_template(qwen):
    """Qwen2.5's template with {% generation %} around what an assistant turn adds after its header."""
    old_plain = "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    assert qwen.count(old_plain) == 1
    new_plain = ("{%- if message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' }}{% generation %}"
                 "{{- message.content + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}{%- else %}" + old_plain + "{%- endif %}")
    t = qwen.replace(old_plain, new_plain)
    head = "        {{- '<|im_start|>' + message.role }}\n        {%- if message.content %}"
    assert t.count(head) == 1
    t = t.replace(head, "        {{- '<|im_start|>' + message.role + '\\n' }}{% generation %}\n        {%- if message.content %}")
    t = t.replace("{{- '\\n' + message.content }}", "{{- message.content }}")
    first = "            {{- '\\n<tool_call>\\n{\"name\": \"' }}"
    assert t.count(first) == 1
    t = t.replace(first, "            {%- if not loop.first or message.content %}{{- '\\n' }}{%- endif %}\n"
                         "            {{- '<tool_call>\\n{\"name\": \"' }}")
    end = "        {%- endfor %}\n        {{- '<|im_end|>\\n' }}"
    assert t.count(end) == 1
    return t.replace(end, "        {%- endfor %}\n        {{- '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}")


def utf8_offsets(text, offsets):
    starts = [0]
    for ch in text:
        starts.append(starts[-1] + len(ch.encode("utf-8")))
    return [[starts[a], starts[b]] for a, b in offsets]


def main():
    tok = AutoTokenizer.from_pretrained(os.path.join(FIX, "smollm2"))
    qwen = open(os.path.join(TEMPLATES, "qwen2.5.jinja")).read()
    templates = {
        "qwen2.5": (qwen, None, "<|im_end|>"),
        "llama3": (open(os.path.join(TEMPLATES, "llama3.jinja")).read(), "<|begin_of_text|>", "<|eot_id|>"),
        "chatml": (open(os.path.join(TEMPLATES, "smollm2.jinja")).read(), "<|im_start|>", "<|im_end|>"),
        "qwen2.5-generation": (generation_template(qwen), None, "<|im_end|>"),
    }
    cases = []
    for name, (template, bos, eos) in templates.items():
        tok.chat_template = template
        tok.bos_token, tok.eos_token = bos or tok.bos_token, eos
        for k, row in enumerate(ROWS + [PARALLEL]):
            case = {"template": name, "row": k, "messages": row["messages"], "tools": row["tools"],
                    "line": json.dumps({"messages": row["messages"], "tools": row["tools"]}, ensure_ascii=False)}
            if name == "chatml":
                case["expected"] = "dropped" if any("tool_calls" in m for m in row["messages"]) or row["tools"] else "kept"
                if case["expected"] == "dropped":
                    cases.append(case)
                    continue
            if name == "llama3" and row is PARALLEL:
                continue  # the template raises; Tailor's template tests cover raise_exception
            text = tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            if name.endswith("-generation"):
                out = tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=True, return_dict=True,
                                              return_assistant_tokens_mask=True)
                assert list(out["input_ids"]) == list(enc["input_ids"])
                mask = list(out["assistant_masks"])
                # Same text as the template without generation blocks.
                tok.chat_template = qwen
                assert tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False) == text
                tok.chat_template = template
            else:
                ref = reference_spans(tok, row["messages"], row["tools"])
                assert ref["text"] == text and "spans" in ref, ref
                ranges = utf8_offsets(text, enc["offset_mapping"])
                mask = [int(any(a < e and b > s for s, e in ref["spans"]) and b > a) for a, b in ranges]
            case.update({"expected": "kept", "text": text, "input_ids": list(enc["input_ids"]), "assistant_mask": mask})
            assert any(mask), (name, k)
            cases.append(case)
    with open(os.path.join(FIX, "tool_rows.json"), "w") as f:
        json.dump({"generator": "tools/reference/data_tool_fixtures.py", "transformers": transformers.__version__,
                   "templates": {n: {"source": t, "bos_token": b, "eos_token": e} for n, (t, b, e) in templates.items()},
                   "cases": cases}, f, ensure_ascii=False, indent=0)
    print(len(cases), "cases", file=sys.stderr)


if __name__ == "__main__":
    main()
