// libFuzzer target: any bytes as a chat template; parsing and rendering a short conversation return or throw,
// within the limits (small ones here, so each input runs quickly).
import Foundation
import TailorChat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let limits = ChatTemplate.Limits(maxOutputBytes: 1 << 16, maxLoopIterations: 2_000, maxRecursionDepth: 16,
                                     maxCollectionCount: 10_000, maxNestingDepth: 32, maxSteps: 100_000)
    guard let template = try? ChatTemplate(source: source, limits: limits, sourceName: "fuzz.jinja") else { return 0 }
    let messages: [JinjaValue] = [
        .object([("role", .string("system")), ("content", .string("Be brief."))]),
        .object([("role", .string("user")), ("content", .string("Hi <b>there</b> 👋"))]),
        .object([("role", .string("assistant")), ("content", .string("Hello."))]),
    ]
    _ = try? template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
    return 0
}
