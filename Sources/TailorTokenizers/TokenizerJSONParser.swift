// Reads tokenizer.json into the model, added tokens and the pipeline components (normalizer, pre-tokenizer,
// post-processor, decoder). Unknown component types are named errors, never silently ignored.
import Foundation
import TailorText

/// Everything tokenizer.json describes, ready to run.
struct TokenizerComponents: Sendable {
    var model: BPEModel
    var addedTokens: [AddedToken]
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var postProcessor: PostProcessor?
    var decoder: Decoder?
}

struct TokenizerJSONParser {
    let json: JSONFields

    init(file: String) { json = JSONFields(file: file) }

    func parse(_ data: Data) throws -> TokenizerComponents {
        let root = try json.parse(data)
        let modelObject = try json.object(root, "model", path: "model")
        let model = try parseModel(modelObject)
        var added: [AddedToken] = []
        if let list = root["added_tokens"], !list.isNull {
            guard let entries = list.arrayValue else { throw json.fail("added_tokens", "expected an array") }
            for (index, entry) in entries.enumerated() {
                let path = "added_tokens[\(index)]"
                guard let object = entry.objectValue else { throw json.fail(path, "expected an object") }
                added.append(AddedToken(
                    id: try json.int(object["id"], path: path + ".id"),
                    content: try json.string(object, "content", path: path + ".content"),
                    singleWord: try json.bool(object, "single_word", path: path + ".single_word", default: false),
                    leftStrip: try json.bool(object, "lstrip", path: path + ".lstrip", default: false),
                    rightStrip: try json.bool(object, "rstrip", path: path + ".rstrip", default: false),
                    normalized: try json.bool(object, "normalized", path: path + ".normalized", default: true),
                    special: try json.bool(object, "special", path: path + ".special", default: false)))
            }
        }
        return TokenizerComponents(
            model: model, addedTokens: added,
            normalizer: try json.optionalObject(root, "normalizer", path: "normalizer").map { try parseNormalizer($0, path: "normalizer") },
            preTokenizer: try json.optionalObject(root, "pre_tokenizer", path: "pre_tokenizer").map { try parsePreTokenizer($0, path: "pre_tokenizer") },
            postProcessor: try json.optionalObject(root, "post_processor", path: "post_processor").map { try parsePostProcessor($0, path: "post_processor") },
            decoder: try json.optionalObject(root, "decoder", path: "decoder").map { try parseDecoder($0, path: "decoder") })
    }

    func parseModel(_ object: JSONObject) throws -> BPEModel {
        let type = try json.optionalString(object, "type", path: "model.type") ?? (object["merges"] != nil ? "BPE" : "?")
        guard type == "BPE" else { throw TokenizerError.unsupportedModel(file: json.file, type: type) }
        let vocabObject = try json.object(object, "vocab", path: "model.vocab")
        var vocab: [TokenKey: Int] = [:]
        vocab.reserveCapacity(vocabObject.count)
        for member in vocabObject.members {
            vocab[TokenKey(member.key)] = try json.int(member.value, path: "model.vocab[\"\(member.key)\"]")
        }
        var merges: [(String, String)] = []
        let list = try json.array(object, "merges", path: "model.merges")
        merges.reserveCapacity(list.count)
        for (index, entry) in list.enumerated() {
            if let line = entry.stringValue {
                // Legacy form "left right": split on the first space.
                guard let space = line.firstIndex(of: " ") else {
                    throw json.fail("model.merges[\(index)]", "expected \"left right\", got \"\(line)\"")
                }
                merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
            } else if let pair = entry.arrayValue, pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue {
                merges.append((left, right))
            } else {
                throw json.fail("model.merges[\(index)]", "expected \"left right\" or [left, right]")
            }
        }
        if let dropout = object["dropout"], case .double(let value) = dropout, value > 0 {
            // Dropout only applies while training a tokenizer; inference (and tokenizers' encode) ignore nothing,
            // so refuse rather than silently differ.
            throw json.fail("model.dropout", "BPE dropout \(value) is not supported (expected null)")
        }
        return try BPEModel(
            vocab: vocab, merges: merges,
            unknownToken: try json.optionalString(object, "unk_token", path: "model.unk_token"),
            fuseUnknown: try json.bool(object, "fuse_unk", path: "model.fuse_unk", default: false),
            byteFallback: try json.bool(object, "byte_fallback", path: "model.byte_fallback", default: false),
            ignoreMerges: try json.bool(object, "ignore_merges", path: "model.ignore_merges", default: false),
            continuingSubwordPrefix: try json.optionalString(object, "continuing_subword_prefix", path: "model.continuing_subword_prefix"),
            endOfWordSuffix: try json.optionalString(object, "end_of_word_suffix", path: "model.end_of_word_suffix"),
            file: json.file)
    }

    private func pattern(_ object: JSONObject, path: String) throws -> (regex: String?, literal: String?) {
        let pattern = try json.object(object, "pattern", path: path + ".pattern")
        if let literal = try json.optionalString(pattern, "String", path: path + ".pattern.String") { return (nil, literal) }
        if let regex = try json.optionalString(pattern, "Regex", path: path + ".pattern.Regex") { return (regex, nil) }
        throw json.fail(path + ".pattern", "expected {\"String\": ...} or {\"Regex\": ...}")
    }

    func parseNormalizer(_ object: JSONObject, path: String) throws -> Normalizer {
        let type = try json.type(object, path: path)
        switch type {
        case "NFC":
            return .nfc
        case "Prepend":
            return .prepend(Array(try json.string(object, "prepend", path: path + ".prepend").unicodeScalars))
        case "Replace":
            let (regex, literal) = try pattern(object, path: path)
            guard let literal else {
                throw TokenizerError.unsupportedRegex(file: json.file, key: path + ".pattern", pattern: regex ?? "")
            }
            return .replace(pattern: Array(literal.unicodeScalars),
                            content: Array(try json.string(object, "content", path: path + ".content").unicodeScalars))
        case "Strip":
            return .strip(left: try json.bool(object, "strip_left", path: path + ".strip_left", default: true),
                          right: try json.bool(object, "strip_right", path: path + ".strip_right", default: true))
        case "Sequence":
            let list = try json.array(object, "normalizers", path: path + ".normalizers")
            return .sequence(try list.enumerated().map { index, entry in
                let sub = "\(path).normalizers[\(index)]"
                guard let item = entry.objectValue else { throw json.fail(sub, "expected an object") }
                return try parseNormalizer(item, path: sub)
            })
        default:
            throw TokenizerError.unsupportedComponent(file: json.file, key: path, type: type)
        }
    }

    private func prependScheme(_ object: JSONObject, path: String) throws -> PrependScheme {
        if let scheme = try json.optionalString(object, "prepend_scheme", path: path + ".prepend_scheme") {
            guard let value = PrependScheme(rawValue: scheme) else {
                throw json.fail(path + ".prepend_scheme", "expected always, first or never, got \(scheme)")
            }
            return value
        }
        // Files written before prepend_scheme existed carry add_prefix_space instead.
        return try json.bool(object, "add_prefix_space", path: path + ".add_prefix_space", default: true) ? .always : .never
    }

    private func singleScalar(_ object: JSONObject, _ key: String, path: String) throws -> Unicode.Scalar {
        let value = try json.string(object, key, path: path + "." + key)
        guard value.unicodeScalars.count == 1, let scalar = value.unicodeScalars.first else {
            throw json.fail(path + "." + key, "expected a single character, got \"\(value)\"")
        }
        return scalar
    }

    func parsePreTokenizer(_ object: JSONObject, path: String) throws -> PreTokenizer {
        let type = try json.type(object, path: path)
        switch type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try json.bool(object, "add_prefix_space", path: path + ".add_prefix_space", default: true),
                              useRegex: try json.bool(object, "use_regex", path: path + ".use_regex", default: true))
        case "Digits":
            return .digits(individual: try json.bool(object, "individual_digits", path: path + ".individual_digits", default: false))
        case "Split":
            let (regex, literal) = try pattern(object, path: path)
            let behaviorName = try json.string(object, "behavior", path: path + ".behavior")
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw json.fail(path + ".behavior", "unknown split behavior \(behaviorName)")
            }
            let invert = try json.bool(object, "invert", path: path + ".invert", default: false)
            let splitPattern: SplitPattern
            switch regex {
            case nil: splitPattern = .literal(Array((literal ?? "").unicodeScalars))
            case RegexScanner.gpt2Pattern?: splitPattern = .gpt2
            case RegexScanner.llama3Pattern?: splitPattern = .llama3
            case RegexScanner.qwen2Pattern?: splitPattern = .qwen2
            case let other?: throw TokenizerError.unsupportedRegex(file: json.file, key: path + ".pattern", pattern: other)
            }
            return .split(splitPattern, behavior, invert: invert)
        case "Metaspace":
            return .metaspace(replacement: try singleScalar(object, "replacement", path: path),
                              prependScheme: try prependScheme(object, path: path),
                              split: try json.bool(object, "split", path: path + ".split", default: true))
        case "WhitespaceSplit":
            return .whitespaceSplit
        case "Sequence":
            let list = try json.array(object, "pretokenizers", path: path + ".pretokenizers")
            return .sequence(try list.enumerated().map { index, entry in
                let sub = "\(path).pretokenizers[\(index)]"
                guard let item = entry.objectValue else { throw json.fail(sub, "expected an object") }
                return try parsePreTokenizer(item, path: sub)
            })
        default:
            throw TokenizerError.unsupportedComponent(file: json.file, key: path, type: type)
        }
    }

    func parsePostProcessor(_ object: JSONObject, path: String) throws -> PostProcessor {
        let type = try json.type(object, path: path)
        switch type {
        case "ByteLevel":
            return .byteLevel(trimOffsets: try json.bool(object, "trim_offsets", path: path + ".trim_offsets", default: true),
                              addPrefixSpace: try json.bool(object, "add_prefix_space", path: path + ".add_prefix_space", default: true))
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            if let map = try json.optionalObject(object, "special_tokens", path: path + ".special_tokens") {
                for member in map.members {
                    let (name, value) = (member.key, member.value)
                    let sub = "\(path).special_tokens[\"\(name)\"]"
                    guard let entry = value.objectValue else { throw json.fail(sub, "expected an object") }
                    specials[name] = try json.array(entry, "ids", path: sub + ".ids").enumerated().map {
                        try json.int($0.element, path: "\(sub).ids[\($0.offset)]")
                    }
                }
            }
            let single = try json.array(object, "single", path: path + ".single")
            return .template(single: try single.enumerated().map { index, entry in
                let sub = "\(path).single[\(index)]"
                guard let item = entry.objectValue else { throw json.fail(sub, "expected an object") }
                if item["Sequence"] != nil { return .sequence }
                guard let special = try json.optionalObject(item, "SpecialToken", path: sub + ".SpecialToken") else {
                    throw json.fail(sub, "expected Sequence or SpecialToken")
                }
                let name = try json.string(special, "id", path: sub + ".SpecialToken.id")
                guard let ids = specials[name] else {
                    throw TokenizerError.unknownSpecialToken(file: json.file, key: sub + ".SpecialToken.id", token: name)
                }
                return .special(ids: ids)
            })
        case "RobertaProcessing", "BertProcessing":
            func pair(_ key: String) throws -> Int {
                let list = try json.array(object, key, path: path + "." + key)
                guard list.count == 2 else { throw json.fail(path + "." + key, "expected [token, id]") }
                return try json.int(list[1], path: path + "." + key + "[1]")
            }
            return .template(single: [.special(ids: [try pair("cls")]), .sequence, .special(ids: [try pair("sep")])])
        case "Sequence":
            let list = try json.array(object, "processors", path: path + ".processors")
            return .sequence(try list.enumerated().map { index, entry in
                let sub = "\(path).processors[\(index)]"
                guard let item = entry.objectValue else { throw json.fail(sub, "expected an object") }
                return try parsePostProcessor(item, path: sub)
            })
        default:
            throw TokenizerError.unsupportedComponent(file: json.file, key: path, type: type)
        }
    }

    func parseDecoder(_ object: JSONObject, path: String) throws -> Decoder {
        let type = try json.type(object, path: path)
        switch type {
        case "ByteLevel":
            return .byteLevel
        case "Replace":
            let (regex, literal) = try pattern(object, path: path)
            guard let literal else {
                throw TokenizerError.unsupportedRegex(file: json.file, key: path + ".pattern", pattern: regex ?? "")
            }
            return .replace(pattern: literal, content: try json.string(object, "content", path: path + ".content"))
        case "ByteFallback":
            return .byteFallback
        case "Fuse":
            return .fuse
        case "Strip":
            return .strip(content: try singleScalar(object, "content", path: path),
                          start: try json.optionalInt(object, "start", path: path + ".start") ?? 0,
                          stop: try json.optionalInt(object, "stop", path: path + ".stop") ?? 0)
        case "Metaspace":
            return .metaspace(replacement: try singleScalar(object, "replacement", path: path),
                              prependScheme: try prependScheme(object, path: path))
        case "Sequence":
            let list = try json.array(object, "decoders", path: path + ".decoders")
            return .sequence(try list.enumerated().map { index, entry in
                let sub = "\(path).decoders[\(index)]"
                guard let item = entry.objectValue else { throw json.fail(sub, "expected an object") }
                return try parseDecoder(item, path: sub)
            })
        default:
            throw TokenizerError.unsupportedComponent(file: json.file, key: path, type: type)
        }
    }
}
