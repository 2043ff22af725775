"""Drives a running `tailor serve` with the official `openai` Python package and prints what it got.

    tailor serve --model models/SmolLM2-135M-Instruct.Q4_1.gguf --adapter dates=runs/dates --port 8080 &
    /opt/refvenv/bin/python tools/reference/check_openai_client.py --base-url http://127.0.0.1:8080/v1 [--adapter dates]

Checks: models.list (base + adapters, parent = base), chat.completions (plain and streamed with include_usage,
the streamed text equal to the plain one at temperature 0), completions (plain and streamed), an adapter by name,
and an unknown model raising openai.NotFoundError. Exits 1 on the first mismatch.
Versions used: openai 3.63.0, Python 3.11.7 (see requirements-serve.txt).
"""
import argparse
import sys

import openai


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--api-key", default="none")
    parser.add_argument("--adapter", help="an adapter name the server was started with")
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key)

    models = client.models.list().data
    print("models:", [(m.id, getattr(m, "parent", None)) for m in models])
    base = models[0].id
    check(all(getattr(m, "parent", None) == base for m in models[1:]), "adapters list the base model as parent")

    messages = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
    for model in [base] + ([args.adapter] if args.adapter else []):
        reply = client.chat.completions.create(model=model, messages=messages, max_tokens=40, temperature=0)
        text = reply.choices[0].message.content
        print(f"chat [{model}]: {text!r} finish={reply.choices[0].finish_reason} usage={reply.usage}")
        check(reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens, "usage adds up")
        chunks = list(client.chat.completions.create(model=model, messages=messages, max_tokens=40, temperature=0,
                                                     stream=True, stream_options={"include_usage": True}))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        print(f"stream [{model}]: {len(chunks)} chunks, usage={chunks[-1].usage}")
        check(streamed == text, "streamed text equals the plain reply")
        check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == reply.usage.completion_tokens,
              "include_usage chunk matches")

    completion = client.completions.create(model=base, prompt="The three primary colors are", max_tokens=24, temperature=0)
    print(f"completion: {completion.choices[0].text!r} finish={completion.choices[0].finish_reason}")
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model=base, prompt="The three primary colors are", max_tokens=24, temperature=0, stream=True) if c.choices)
    check(streamed == completion.choices[0].text, "streamed completion equals the plain one")

    try:
        client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=4)
        check(False, "unknown model refused")
    except openai.NotFoundError as error:
        check(error.status_code == 404, f"unknown model refused with 404 ({error.message})")
    try:
        client.chat.completions.create(model=base, messages=messages, max_tokens=4, n=2)
        check(False, "n = 2 refused")
    except openai.BadRequestError as error:
        check(error.status_code == 400, f"n = 2 refused with 400 ({error.message})")
    print("all checks passed")


if __name__ == "__main__":
    main()
