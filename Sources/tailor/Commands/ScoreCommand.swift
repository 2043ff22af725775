// `tailor score`: how likely a model finds a token sequence (mean negative log-likelihood and perplexity).
import ArgumentParser
import Foundation
import TailorKernels
import TailorModels
import TailorTensor

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Mean negative log-likelihood and perplexity of a token sequence.")

    @OptionGroup var chat: ChatModelOptions
    @Option(help: "Comma-separated token ids, e.g. 1,9690,198.") var ids: String?
    @Option(help: "Text to score (tokenized with the model's tokenizer, special tokens added).") var text: String?
    @Option(help: "A file to score: plain text, or JSONL with a \"text\" field per line (scored row by row, token-weighted).")
    var file: String?
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var tokens: Int
        var predictedTokens: Int
        var meanNLL: Double
        var perplexity: Double
    }

    func run() throws {
        guard [ids, text, file].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --ids, --text or --file")
        }
        let loaded = try chat.loadModel()
        let sequences: [[Int32]]
        if let ids {
            sequences = [try parseIDs(ids)]
        } else {
            let tokenizer = try loaded.tokenizer()
            let texts = try text.map { [$0] } ?? readTexts(file ?? "", field: "text", linesAreTexts: false)
            sequences = texts.map { tokenizer.encode($0, addSpecialTokens: true).map(Int32.init) }
        }
        let model = loaded.model
        let vocab = model.configuration.vocabSize
        let backend = CPUBackend()
        var sum = 0.0, count = 0, tokens = 0
        for sequence in sequences {
            guard sequence.count >= 2 else { throw ValidationError("a scored sequence needs at least two tokens") }
            if let bad = sequence.first(where: { $0 < 0 || Int($0) >= vocab }) {
                throw ValidationError("token \(bad) is outside the vocabulary (0..<\(vocab))")
            }
            // Longer than the context: consecutive windows of the context length, each predicting its own tokens
            // after the first (as perplexity tools without a stride do).
            let window = model.configuration.contextLength
            for start in stride(from: 0, to: sequence.count - 1, by: max(1, window - 1)) {
                let piece = Array(sequence[start..<min(start + window, sequence.count)])
                let logits = model.forward(tokens: piece, batch: 1, backend: backend)
                let part = CausalLMLoss.sum(logits: logits, targets: CausalLMLoss.shiftedTargets(labels: piece, batch: 1), backend: backend)
                sum += part.sum
                count += part.count
            }
            tokens += sequence.count
        }
        let report = Report(tokens: tokens, predictedTokens: count, meanNLL: sum / Double(count),
                            perplexity: Foundation.exp(sum / Double(count)))
        if json { return try printJSON(report) }
        var table = TextTable("tokens", "predicted", "mean NLL", "perplexity")
        table.add("\(report.tokens)", "\(report.predictedTokens)", String(format: "%.4f", report.meanNLL),
                  String(format: "%.3f", report.perplexity))
        print(table.render())
    }
}

/// Parses "1, 2,3" into token ids.
func parseIDs(_ text: String) throws -> [Int32] {
    try text.split(separator: ",").map { piece in
        let trimmed = piece.trimmingCharacters(in: .whitespaces)
        guard let id = Int32(trimmed) else { throw ValidationError("--ids: '\(trimmed)' is not a token id") }
        return id
    }
}
