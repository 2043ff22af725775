// Loading the tiny reference models and their transformers outputs from the test fixtures.
import Foundation
import TailorFormats
import TailorModels
import TailorTensor
import XCTest

struct FixtureModel {
    let directory: URL
    let model: LlamaModel
    let reference: SafeTensorsFile

    init(_ name: String) throws {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("fixtures missing from the test bundle")
        }
        directory = root.appendingPathComponent(name)
        let config = try ModelConfig.load(from: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        model = LlamaModel(configuration: config,
                           weights: try LlamaWeights(configuration: config, tensors: tensors, source: name))
        reference = try SafeTensorsFile(url: directory.appendingPathComponent("reference.safetensors"))
    }

    private init(directory: URL, model: LlamaModel, reference: SafeTensorsFile) {
        self.directory = directory
        self.model = model
        self.reference = reference
    }

    /// The same fixture with other weights (an adapter attached, for example).
    func with(weights: LlamaWeights) -> FixtureModel {
        FixtureModel(directory: directory, model: LlamaModel(configuration: model.configuration, weights: weights),
                     reference: reference)
    }

    /// The per-position `values` (`[B·T, width]`) that are compared with transformers: all of them, except with a
    /// sliding window, where only real tokens are. A padded query whose whole window is padding gets an all-masked
    /// score row in transformers (eager attention then averages over every key); such values carry no meaning and
    /// Tailor does not imitate them.
    func comparable(_ values: [Float]) throws -> [Float] {
        guard model.configuration.slidingWindow(layer: 0) != nil else { return values }
        let mask = try ints("attention_mask"), width = values.count / mask.count
        return mask.indices.filter { mask[$0] == 1 }.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
    }

    func ints(_ name: String) throws -> [Int32] { try reference.tensor(name).floats().map { Int32($0) } }
    func floats(_ name: String) throws -> [Float] { try reference.tensor(name).floats() }
    func shape(_ name: String) throws -> [Int] { try reference.tensor(name).shape }
}
