// `tailor score`: how likely a model finds a token sequence (mean negative log-likelihood and perplexity).
import ArgumentParser
import Foundation
import TailorKernels
import TailorModels
import TailorTensor

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Mean negative log-likelihood and perplexity of a token sequence.")

    @OptionGroup var model: ModelOption
    @Option(help: "Comma-separated token ids, e.g. 1,9690,198.") var ids: String
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var tokens: Int
        var predictedTokens: Int
        var meanNLL: Double
        var perplexity: Double
    }

    func run() throws {
        let tokens = try parseIDs(ids)
        guard tokens.count >= 2 else { throw ValidationError("--ids needs at least two tokens to score one prediction") }
        let loaded = try model.load()
        let vocab = loaded.model.configuration.vocabSize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw ValidationError("--ids: token \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        let backend = CPUBackend()
        let logits = loaded.model.forward(tokens: tokens, batch: 1, backend: backend)
        let (sum, count) = CausalLMLoss.sum(logits: logits, targets: CausalLMLoss.shiftedTargets(labels: tokens, batch: 1),
                                            backend: backend)
        let report = Report(tokens: tokens.count, predictedTokens: count, meanNLL: sum / Double(count),
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
