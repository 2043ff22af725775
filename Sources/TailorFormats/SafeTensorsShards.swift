// Sharded safetensors checkpoints: model-0000i-of-0000n.safetensors + model.safetensors.index.json (spec §3.3).
import Foundation
import TailorTensor
import TailorText

extension SafeTensorsWriter {
    /// Parses a huggingface_hub size: an integer byte count or a number with a decimal unit ("5GB" = 5·10⁹;
    /// KB, MB, GB, TB) or a binary one (KiB, MiB, GiB, TiB).
    public static func parseSize(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        if let plain = Int(trimmed), plain > 0 { return plain }
        let units: [(String, Double)] = [("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("TIB", 1_099_511_627_776),
                                         ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12)]
        for (unit, scale) in units where trimmed.hasSuffix(unit) {
            let number = trimmed.dropLast(unit.count).trimmingCharacters(in: .whitespaces)
            if let value = Double(number), value > 0, value * scale < 9e18 { return Int(value * scale) }
        }
        throw FormatError.invalidArgument(reason: "'\(text)' is not a size (examples: 5GB, 500MB, 1000000)")
    }

    /// Groups tensors into shards as huggingface_hub does: in order; a tensor larger than the limit gets a shard
    /// of its own (inserted before the shard being filled); otherwise a new shard starts when the next tensor
    /// would push the current one past the limit.
    static func shardPlan(_ sizes: [Int], maxShardBytes: Int) -> [[Int]] {
        var shards: [[Int]] = []
        var current: [Int] = []
        var currentSize = 0
        for (i, size) in sizes.enumerated() {
            if size > maxShardBytes { shards.append([i]); continue }
            if currentSize + size > maxShardBytes {
                shards.append(current)
                current = []
                currentSize = 0
            }
            current.append(i)
            currentSize += size
        }
        if !current.isEmpty { shards.append(current) }
        return shards
    }

    /// Writes `tensors` as one file `<baseName>.safetensors` when they fit in `maxShardBytes`, else as numbered
    /// shards plus `<baseName>.safetensors.index.json` (indent 2, sorted keys, trailing newline). Returns the
    /// file names written.
    @discardableResult
    public static func writeSharded(_ tensors: [(String, Tensor)], to directory: URL, baseName: String = "model",
                                    maxShardBytes: Int, metadata: [String: String]? = ["format": "pt"]) throws -> [String] {
        guard maxShardBytes > 0 else { throw FormatError.invalidArgument(reason: "maxShardBytes must be positive") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let plan = shardPlan(tensors.map { $0.1.byteCount }, maxShardBytes: maxShardBytes)
        if plan.count <= 1 {
            let name = "\(baseName).safetensors"
            try write(tensors.map { (name: $0.0, tensor: $0.1) }, metadata: metadata, to: directory.appendingPathComponent(name))
            return [name]
        }
        var weightMap: [JSONMember] = []
        var files: [String] = []
        for (i, shard) in plan.enumerated() {
            let name = String(format: "%@-%05d-of-%05d.safetensors", baseName, i + 1, plan.count)
            let members = shard.map { (name: tensors[$0].0, tensor: tensors[$0].1) }
            try write(members, metadata: metadata, to: directory.appendingPathComponent(name))
            weightMap += members.map { JSONMember(key: $0.name, value: .string(name)) }
            files.append(name)
        }
        let index = JSONValue.object([
            JSONMember(key: "metadata", value: .object([
                JSONMember(key: "total_parameters", value: .int(tensors.reduce(0) { $0 + $1.1.count })),
                JSONMember(key: "total_size", value: .int(tensors.reduce(0) { $0 + $1.1.byteCount })),
            ])),
            JSONMember(key: "weight_map", value: .object(weightMap)),
        ])
        let indexName = "\(baseName).safetensors.index.json"
        try AtomicFile.write(Data(index.serialized(.pythonPretty) + [0x0A]), to: directory.appendingPathComponent(indexName))
        return files + [indexName]
    }
}

/// A sharded checkpoint opened through its index: every shard mapped, names resolved through `weight_map`.
public final class ShardedSafeTensors: @unchecked Sendable {
    public let indexURL: URL
    /// Shards in file-name order.
    public let shards: [SafeTensorsFile]
    /// Tensor name → shard position in `shards`.
    private let location: [String: Int]
    /// All tensor names, sorted.
    public var names: [String] { location.keys.sorted() }
    /// The index's `metadata` object values that are numbers (total_size, total_parameters).
    public let indexMetadata: [String: Int]

    /// Reads the index JSON and maps every shard it names; each mapped tensor must be in its shard.
    public init(indexURL: URL) throws {
        self.indexURL = indexURL
        let path = indexURL.path
        let file = try MappedFile(path: path)
        let json: JSONValue
        do { json = try JSONValue.parse(file.bytes) } catch {
            throw FormatError.corrupt(path: path, offset: error.offset, reason: "index is not valid JSON: \(error.reason)")
        }
        guard let map = json["weight_map"]?.members else {
            throw FormatError.invalidConfig(path: path, field: "weight_map", reason: "missing or not an object")
        }
        var metadata: [String: Int] = [:]
        for member in json["metadata"]?.members ?? [] { if let v = member.value.intValue { metadata[member.key] = v } }
        indexMetadata = metadata
        let fileNames = Array(Set(map.compactMap(\.value.stringValue))).sorted()
        var opened: [SafeTensorsFile] = []
        var position: [String: Int] = [:]
        for name in fileNames {
            guard !name.contains("/"), !name.hasPrefix(".") else {
                throw FormatError.invalidConfig(path: path, field: "weight_map", reason: "shard name '\(name)' leaves the folder")
            }
            position[name] = opened.count
            opened.append(try SafeTensorsFile(url: indexURL.deletingLastPathComponent().appendingPathComponent(name)))
        }
        var location: [String: Int] = [:]
        for member in map {
            guard let shardName = member.value.stringValue, let shard = position[shardName] else {
                throw FormatError.invalidConfig(path: path, field: "weight_map.\(member.key)", reason: "expected a shard file name")
            }
            guard location[member.key] == nil else { throw FormatError.duplicateTensor(path: path, tensor: member.key) }
            guard opened[shard].info(member.key) != nil else {
                throw FormatError.missingTensor(path: opened[shard].url.path, tensor: member.key)
            }
            location[member.key] = shard
        }
        shards = opened
        self.location = location
    }

    /// The shard holding `name`, or nil.
    public func shard(of name: String) -> SafeTensorsFile? { location[name].map { shards[$0] } }

    public func info(_ name: String) -> SafeTensorsTensorInfo? { shard(of: name)?.info(name) }

    public func tensor(_ name: String) throws -> Tensor {
        guard let shard = shard(of: name) else { throw FormatError.missingTensor(path: indexURL.path, tensor: name) }
        return try shard.tensor(name)
    }
}
