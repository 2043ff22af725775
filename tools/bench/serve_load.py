"""Load test for an OpenAI-compatible server: N concurrent clients send a fixed number of streamed chat requests.

    /opt/refvenv/bin/python tools/bench/serve_load.py --base-url http://127.0.0.1:8080/v1 --model NAME \
        --concurrency 1 4 16 --requests 64 --max-tokens 64 [--label tailor] [--json results.jsonl]

Every request streams (`stream: true`), so time to first token (TTFT) is the time to the first content chunk.
Generated tokens per request: the `usage` chunk when the server sends one (stream_options.include_usage), otherwise
the number of content chunks (one token each in llama-cpp-python's server). Prompts cycle through a fixed list, all
greedy (temperature 0). Reports per concurrency: requests, errors, request latency P50/P95/P99, TTFT P50/P95/P99,
aggregate generated tokens/s (all tokens / wall time of the run). Only the standard library: threads + http.client.
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse

PROMPTS = [
    "Write a short poem about the sea.",
    "Explain what a hash table is in two sentences.",
    "List three tips for learning a new language.",
    "What is the difference between weather and climate?",
    "Give me a recipe idea with rice and beans.",
    "Summarize the plot of Cinderella.",
    "Why is the sky blue?",
    "Describe a cat to someone who has never seen one.",
]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def one_request(url, model, prompt, max_tokens, api_key, timeout):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "temperature": 0, "stream": True, "stream_options": {"include_usage": True}})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}
    start = time.perf_counter()
    connection.request("POST", parts.path.rstrip("/") + "/chat/completions", body=body, headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    first, chunks, usage, done = None, 0, None, False
    while True:
        line = response.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        payload = line[6:]
        if payload == b"[DONE]":
            done = True
            break
        event = json.loads(payload)
        if event.get("usage"):
            usage = event["usage"]["completion_tokens"]
        for choice in event.get("choices") or []:
            if (choice.get("delta") or {}).get("content"):
                chunks += 1
                if first is None:
                    first = time.perf_counter() - start
    connection.close()
    if not done:
        raise RuntimeError("stream ended without [DONE]")
    latency = time.perf_counter() - start
    return latency, first if first is not None else latency, usage if usage is not None else chunks


def run(url, model, concurrency, total, max_tokens, api_key, timeout):
    lock = threading.Lock()
    next_index = [0]
    latencies, ttfts, tokens, errors = [], [], [0], []

    def worker():
        while True:
            with lock:
                i = next_index[0]
                if i >= total:
                    return
                next_index[0] += 1
            try:
                latency, ttft, n = one_request(url, model, PROMPTS[i % len(PROMPTS)], max_tokens, api_key, timeout)
                with lock:
                    latencies.append(latency)
                    ttfts.append(ttft)
                    tokens[0] += n
            except Exception as error:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    errors.append(str(error))

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {
        "concurrency": concurrency, "requests": total, "completed": len(latencies), "errors": len(errors),
        "first_errors": errors[:3], "wall_s": round(wall, 2), "generated_tokens": tokens[0],
        "tokens_per_s": round(tokens[0] / wall, 2),
        "latency_p50_s": round(percentile(latencies, 50), 3), "latency_p95_s": round(percentile(latencies, 95), 3),
        "latency_p99_s": round(percentile(latencies, 99), 3),
        "ttft_p50_s": round(percentile(ttfts, 50), 3), "ttft_p95_s": round(percentile(ttfts, 95), 3),
        "ttft_p99_s": round(percentile(ttfts, 99), 3),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--api-key", default="none")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--label", default="")
    parser.add_argument("--json", help="append one JSON line per concurrency to this file")
    args = parser.parse_args()
    print(f"{'label':10} {'conc':>4} {'reqs':>5} {'err':>4} {'tok/s':>8} {'lat p50':>8} {'p95':>7} {'p99':>7} "
          f"{'ttft p50':>8} {'p95':>7} {'p99':>7}")
    for concurrency in args.concurrency:
        result = run(args.base_url, args.model, concurrency, args.requests, args.max_tokens, args.api_key, args.timeout)
        result["label"] = args.label
        result["max_tokens"] = args.max_tokens
        print(f"{args.label:10} {concurrency:4} {result['completed']:5} {result['errors']:4} {result['tokens_per_s']:8.1f} "
              f"{result['latency_p50_s']:8.2f} {result['latency_p95_s']:7.2f} {result['latency_p99_s']:7.2f} "
              f"{result['ttft_p50_s']:8.3f} {result['ttft_p95_s']:7.3f} {result['ttft_p99_s']:7.3f}", flush=True)
        if result["errors"]:
            print("  errors:", result["first_errors"])
        if args.json:
            with open(args.json, "a") as out:
                out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
