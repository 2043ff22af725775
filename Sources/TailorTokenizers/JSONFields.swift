// Typed access to parsed JSON that names the file and key path in every error.
import Foundation
import TailorText

struct JSONFields {
    let file: String

    func parse(_ data: Data) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue.parse([UInt8](data), options: .tokenizer)
        } catch {
            throw TokenizerError.malformedJSON(file: file, key: "(root)",
                                               reason: "not valid JSON at byte \(error.offset): \(error.reason)")
        }
        guard let object = value.objectValue else {
            throw TokenizerError.malformedJSON(file: file, key: "(root)", reason: "expected a JSON object")
        }
        return object
    }

    func fail(_ key: String, _ reason: String) -> TokenizerError {
        .malformedJSON(file: file, key: key, reason: reason)
    }

    /// nil when absent or JSON null.
    func optionalObject(_ object: JSONObject, _ key: String, path: String) throws -> JSONObject? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let result = value.objectValue else { throw fail(path, "expected an object") }
        return result
    }

    func object(_ object: JSONObject, _ key: String, path: String) throws -> JSONObject {
        guard let result = try optionalObject(object, key, path: path) else { throw fail(path, "missing") }
        return result
    }

    func optionalString(_ object: JSONObject, _ key: String, path: String) throws -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let result = value.stringValue else { throw fail(path, "expected a string") }
        return result
    }

    func string(_ object: JSONObject, _ key: String, path: String) throws -> String {
        guard let result = try optionalString(object, key, path: path) else { throw fail(path, "missing") }
        return result
    }

    func bool(_ object: JSONObject, _ key: String, path: String, default fallback: Bool) throws -> Bool {
        guard let value = object[key], !value.isNull else { return fallback }
        if case .bool(let result) = value { return result }
        throw fail(path, "expected true or false")
    }

    func int(_ value: JSONValue?, path: String) throws -> Int {
        switch value {
        case .int(let result)?: return result
        case .double(let d)? where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: throw fail(path, "expected an integer")
        }
    }

    func optionalInt(_ object: JSONObject, _ key: String, path: String) throws -> Int? {
        guard let value = object[key], !value.isNull else { return nil }
        return try int(value, path: path)
    }

    func array(_ object: JSONObject, _ key: String, path: String) throws -> [JSONValue] {
        guard let value = object[key], !value.isNull else { throw fail(path, "missing") }
        guard let result = value.arrayValue else { throw fail(path, "expected an array") }
        return result
    }

    func type(_ object: JSONObject, path: String) throws -> String {
        try string(object, "type", path: path + ".type")
    }
}
