# Encode throughput of the `tokenizers` library on the TailorTokenizers benchmark corpus, with 1 and 2 threads,
# for comparison with Tailor's TokenizerBenchmark.run (same corpus file, same tokenizer.json).
# Pinned: tokenizers==0.23.3 (tools/reference/requirements-tokenizers.txt).
# Run: /opt/refvenv/bin/python tools/bench/tokenizer_bench.py [tokenizer_dir] [corpus_out.json]
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))


def measure(tokenizer_json, corpus_path, repeats=3):
    """Runs in a child process so RAYON_NUM_THREADS takes effect; prints bytes and best seconds."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_json)
    texts = json.load(open(corpus_path, encoding="utf-8"))
    size = sum(len(t.encode("utf-8")) for t in texts)
    tok.encode_batch(texts[:50], add_special_tokens=True)  # warm-up
    result = {"bytes": size}
    # encode_batch builds full Encoding objects (offsets, masks); encode_batch_fast skips offsets.
    for name, fn in (("encode_batch", tok.encode_batch), ("encode_batch_fast", tok.encode_batch_fast)):
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn(texts, add_special_tokens=True)
            best = min(best, time.perf_counter() - start)
        result[name] = best
    print(json.dumps(result))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        measure(sys.argv[2], sys.argv[3])
        return
    from tokenizers_corpus import long_corpus
    tokenizer_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "TailorTokenizersTests",
                                                                       "Fixtures", "smollm2")
    corpus_path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/tailor_tokenizer_bench_corpus.json"
    texts = long_corpus()
    with open(corpus_path, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    print(f"corpus: {len(texts)} texts, {sum(len(t.encode('utf-8')) for t in texts) / 1e6:.2f} MB -> {corpus_path}")
    for threads in (1, 2):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
        out = subprocess.run([sys.executable, __file__, "--child", os.path.join(tokenizer_dir, "tokenizer.json"),
                              corpus_path], env=env, capture_output=True, text=True, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        for name in ("encode_batch", "encode_batch_fast"):
            print(f"tokenizers {name} {threads} thread(s): {result['bytes'] / result[name] / 1e6:.2f} MB/s "
                  f"({result[name]:.3f} s)")


if __name__ == "__main__":
    main()
