// Encode throughput, for `tailor` to report next to the tokenizers library's (tools/bench/tokenizer_bench.py).
import Dispatch
import TailorTokenizers

/// Measures Tailor's encode speed (see `run`).
public enum TokenizerBenchmark {
    /// Encodes every text once with `addSpecialTokens: true`, the texts split across `threads` threads (each takes
    /// every `threads`-th text). Returns the UTF-8 bytes encoded and the wall-clock seconds taken.
    public static func run(tokenizer: Tokenizer, texts: [String], threads: Int = 1) -> (bytes: Int, seconds: Double) {
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let workers = max(1, threads)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var count = 0
                var index = worker
                while index < texts.count {
                    count &+= tokenizer.encode(texts[index], addSpecialTokens: true).count
                    index += workers
                }
                // Keep the work observable so the optimizer cannot drop it.
                if count == -1 { print(count) }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return (bytes, seconds)
    }
}
