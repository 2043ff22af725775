// Fine-tunes a LoRA adapter on a JSONL file of chat rows with the Tailor library alone (no CLI):
//   swift run FineTuneExample models/SmolLM2-135M-Instruct.Q4_1.gguf data/dates/train.jsonl runs/example-lora [steps]
// The adapter it writes is a PEFT folder: `tailor generate --adapter runs/example-lora` (or PEFT) loads it.
import Foundation
import Tailor

let arguments = CommandLine.arguments
guard arguments.count == 4 || arguments.count == 5, let steps = Int(arguments.count == 5 ? arguments[4] : "10"), steps > 0 else {
    FileHandle.standardError.write(Data("usage: FineTuneExample MODEL DATA.jsonl OUT [STEPS]\n".utf8))
    exit(64)
}

do {
    // 1. The model and its tokenizer and chat template.
    let loaded = try LoadedModel.load(from: URL(fileURLWithPath: arguments[1]))
    let tokenizer = try loaded.tokenizer()
    let template = try tokenizer.chatTemplate.map { try ChatTemplate(source: $0) }

    // 2. The data: rendered with the chat template, tokenized, the assistant replies trained and the rest masked.
    var options = PrepareOptions()
    options.validationFraction = 0
    options.sampleCount = 0
    options.maxLength = 256
    let prepared = try DataPipeline.prepare(URL(fileURLWithPath: arguments[2]), tokenizer: tokenizer, template: template,
                                            options: options)
    let rows = prepared.train.map {
        TrainingExample(inputIDs: $0.inputIDs, labels: $0.labels, segments: $0.segments, positions: $0.positions)
    }
    print("\(rows.count) rows, \(prepared.report.trainedTokens) trained tokens")

    // 3. LoRA on every linear layer, a few steps.
    var configuration = TrainingConfiguration()
    configuration.method = .lora
    configuration.maxSteps = steps
    configuration.batchSize = 4
    configuration.learningRate = 2e-4
    let config = loaded.checkpoint.config
    var trainer = try Trainer(model: loaded.model, modelConfig: config, baseModelName: arguments[1],
                              configuration: configuration, train: rows,
                              outputDirectory: URL(fileURLWithPath: arguments[3]),
                              padID: Int32(config.padTokenID ?? config.eosTokenIDs.first ?? 0), backend: CPUBackend())
    try trainer.run { event in
        if case .step(let record, let total) = event {
            print("step \(record.step)/\(total)  loss \(String(format: "%.4f", record.loss))")
        }
    }
    print("saved the adapter to \(arguments[3])")
} catch {
    FileHandle.standardError.write(Data("FineTuneExample: \(error)\n".utf8))
    exit(1)
}
