// `tailor inspect`: what a checkpoint holds and what it costs in memory.
import ArgumentParser
import Foundation
import TailorReport
import TailorFormats
import TailorModels
import TailorTensor

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Print a model's architecture, parameter count, dtypes and memory.")

    @OptionGroup var model: ModelOption
    @Flag(help: "Print JSON instead of tables.") var json = false
    @Flag(name: .customLong("tensors"), help: "List every tensor, not only a summary by type.") var listTensors = false

    struct Report: Encodable {
        var path: String
        var format: String
        var architecture: String
        var modelType: String
        var parameters: Int
        var layers: Int
        var hiddenSize: Int
        var intermediateSize: Int
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var vocabSize: Int
        var contextLength: Int
        var tiedEmbeddings: Bool
        var storedBytes: Int
        var loadedBytes: Int
        var storedTypes: [String: Int]
        var tensors: [Tensor]?
        struct Tensor: Encodable { var name: String; var shape: [Int]; var type: String; var bytes: Int }
    }

    func run() throws {
        let loaded = try model.load()
        let c = loaded.checkpoint.config, summaries = loaded.checkpoint.summaries
        var types: [String: Int] = [:]
        for s in summaries { types[s.storedType, default: 0] += 1 }
        let report = Report(
            path: model.url.path, format: String(describing: loaded.checkpoint.format),
            architecture: c.architectures.first ?? c.modelType, modelType: c.modelType,
            parameters: loaded.model.configuration.parameterCount, layers: c.layerCount, hiddenSize: c.hiddenSize,
            intermediateSize: c.intermediateSize, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
            vocabSize: c.vocabSize, contextLength: c.maxPositionEmbeddings, tiedEmbeddings: c.tieWordEmbeddings,
            storedBytes: summaries.reduce(0) { $0 + $1.byteCount }, loadedBytes: loaded.model.weights.byteCount,
            storedTypes: types,
            tensors: listTensors ? summaries.map { .init(name: $0.name, shape: $0.shape, type: $0.storedType, bytes: $0.byteCount) } : nil)
        if json { return try printJSON(report) }

        print("\(report.architecture) (\(report.modelType)) from \(report.path)")
        print("format: \(report.format)")
        var table = TextTable("property", "value")
        table.add("parameters", report.parameters.formatted())
        table.add("layers", "\(report.layers)")
        table.add("hidden / intermediate", "\(report.hiddenSize) / \(report.intermediateSize)")
        table.add("heads / kv heads / head dim", "\(report.heads) / \(report.kvHeads) / \(report.headDim)")
        table.add("vocabulary", "\(report.vocabSize)")
        table.add("context length", "\(report.contextLength)")
        table.add("tied embeddings", "\(report.tiedEmbeddings)")
        table.add("weights on disk", ReportFormat.bytes(report.storedBytes))
        table.add("weights in memory (f32 compute copy)", ReportFormat.bytes(report.loadedBytes))
        print(table.render())
        print("")
        var byType = TextTable("stored type", "tensors")
        for (type, count) in types.sorted(by: { $0.key < $1.key }) { byType.add(type, "\(count)") }
        print(byType.render())
        if listTensors {
            print("")
            var list = TextTable("tensor", "shape", "type", "bytes")
            for s in summaries { list.add(s.name, "\(s.shape)", s.storedType, "\(s.byteCount)") }
            print(list.render())
        }
    }
}
