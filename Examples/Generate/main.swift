// Loads a model, optionally with a LoRA adapter, and answers one prompt greedily with the Tailor library alone:
//   swift run GenerateExample models/SmolLM2-135M-Instruct.Q4_1.gguf "What is the capital of France?" [ADAPTER]
import Foundation
import Tailor

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: GenerateExample MODEL PROMPT [ADAPTER]\n".utf8))
    exit(64)
}

do {
    var loaded = try LoadedModel.load(from: URL(fileURLWithPath: arguments[1]))
    if arguments.count == 4 { loaded = try loaded.applyingAdapter(at: URL(fileURLWithPath: arguments[3])) }
    let chat = try ChatModel(loaded: loaded)
    let prompt = try chat.promptIDs(for: [ChatMessage(role: "user", content: arguments[2])])
    let options = GenerationOptions(maxNewTokens: 64, temperature: 0, stopTokens: chat.stopTokens)
    let reply = chat.model.generate(prompt: prompt, options: options, backend: CPUBackend())
    let text = chat.tokenizer.decode(reply.filter { !chat.stopTokens.contains($0) }.map(Int.init))
    print(text)
} catch {
    FileHandle.standardError.write(Data("GenerateExample: \(error)\n".utf8))
    exit(1)
}
