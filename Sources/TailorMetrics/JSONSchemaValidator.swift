// A JSON Schema validator for the keywords structured-output evaluation needs, with the semantics of the
// jsonschema package's Draft 2020-12 validator (4.26): every keyword is checked independently, keywords that do
// not apply to the instance's type pass, and errors carry the instance path and the failing keyword.

import Foundation

/// One validation error.
public struct SchemaValidationError: Codable, Equatable, Sendable, CustomStringConvertible {
    /// JSON Pointer to the failing part of the instance ("" for the root).
    public var path: String
    /// The schema keyword that failed ("false" for a `false` schema).
    public var keyword: String
    /// What is wrong.
    public var message: String

    public var description: String { "\(path.isEmpty ? "/" : path): \(keyword): \(message)" }
}

/// Validates JSON values against a schema.
///
/// Keywords: type (integer accepts 1.0, booleans are never numbers), properties, required, enum, const, items,
/// prefixItems, minItems, maxItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, minLength,
/// maxLength (code points), pattern and patternProperties (NSRegularExpression, searched anywhere as Python's
/// `re.search`), additionalProperties (bool or schema), anyOf, oneOf, allOf, not, uniqueItems, and local `$ref`
/// ("#", "#/$defs/x", "#/definitions/x", any JSON Pointer into the root). Annotations (title, format, ...) are
/// ignored, as jsonschema does by default. Not supported: remote references, `$id`-based resolution,
/// `unevaluated*`, `dependent*`, `contains`.
///
/// Immutable after init; NSRegularExpression is immutable and thread-safe, hence `@unchecked Sendable`.
public final class JSONSchemaValidator: @unchecked Sendable {
    /// The root schema.
    public let schema: MetricsJSON
    private let regexes: [String: NSRegularExpression]

    /// - Throws: ``MetricsError/invalidSchema(path:reason:)`` for a malformed pattern, a non-local or dangling
    ///   `$ref`, or a schema that is neither an object nor a boolean.
    public init(schema: MetricsJSON) throws {
        self.schema = schema
        var patterns: [String: String] = [:]  // pattern -> schema location, for messages
        var refs: [(String, String)] = []
        try Self.collect(schema, at: "#", patterns: &patterns, refs: &refs)
        var compiled: [String: NSRegularExpression] = [:]
        for (p, location) in patterns {
            do {
                compiled[p] = try NSRegularExpression(pattern: p)
            } catch {
                throw MetricsError.invalidSchema(path: location, reason: "pattern \(p.debugDescription) does not compile")
            }
        }
        regexes = compiled
        for (ref, location) in refs where Self.resolve(ref, in: schema) == nil {
            throw MetricsError.invalidSchema(path: location, reason: "$ref \(ref.debugDescription) does not resolve; "
                                             + "hint: only local references (#/$defs/..., #/definitions/...) are supported")
        }
    }

    /// Parses the schema from JSON text.
    public convenience init(schemaText: String) throws {
        try self.init(schema: PythonJSON.parse(schemaText))
    }

    /// All errors, empty when the instance is valid.
    public func validate(_ instance: MetricsJSON) -> [SchemaValidationError] {
        var errors: [SchemaValidationError] = []
        check(instance, against: schema, path: [], depth: 0, into: &errors)
        return errors
    }

    /// True when ``validate(_:)`` finds nothing.
    public func isValid(_ instance: MetricsJSON) -> Bool {
        var errors: [SchemaValidationError] = []
        check(instance, against: schema, path: [], depth: 0, into: &errors)
        return errors.isEmpty
    }

    // MARK: - Schema walk at init

    private static func collect(_ s: MetricsJSON, at location: String, patterns: inout [String: String],
                                refs: inout [(String, String)]) throws {
        switch s {
        case .bool: return
        case let .object(o):
            if let p = o["pattern"]?.stringValue { patterns[p] = location + "/pattern" }
            if let r = o["$ref"]?.stringValue { refs.append((r, location + "/$ref")) }
            for key in ["properties", "patternProperties", "$defs", "definitions"] {
                guard let members = o[key]?.objectValue else { continue }
                for (k, v) in members.members {
                    if key == "patternProperties" { patterns[k] = location + "/patternProperties" }
                    try collect(v, at: location + "/" + key + "/" + k, patterns: &patterns, refs: &refs)
                }
            }
            for key in ["additionalProperties", "items", "not"] {
                if let v = o[key], v.arrayValue == nil {
                    try collect(v, at: location + "/" + key, patterns: &patterns, refs: &refs)
                }
            }
            for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
                for (i, v) in (o[key]?.arrayValue ?? []).enumerated() {
                    try collect(v, at: "\(location)/\(key)/\(i)", patterns: &patterns, refs: &refs)
                }
            }
        default:
            throw MetricsError.invalidSchema(path: location, reason: "a schema must be an object or a boolean")
        }
    }

    /// Resolves "#" or "#/a/b" (JSON Pointer, percent-decoded, ~1 and ~0 unescaped) against the root.
    static func resolve(_ ref: String, in root: MetricsJSON) -> MetricsJSON? {
        guard ref.hasPrefix("#") else { return nil }
        let pointer = String(ref.dropFirst()).removingPercentEncoding ?? String(ref.dropFirst())
        if pointer.isEmpty { return root }
        guard pointer.hasPrefix("/") else { return nil }
        var node = root
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case let .object(o):
                guard let next = o[token] else { return nil }
                node = next
            case let .array(a):
                guard let i = Int(token), i >= 0, i < a.count else { return nil }
                node = a[i]
            default:
                return nil
            }
        }
        return node
    }

    // MARK: - Validation

    private func pointer(_ path: [String]) -> String {
        path.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    private func regex(_ pattern: String) -> NSRegularExpression? {
        regexes[pattern] ?? (try? NSRegularExpression(pattern: pattern))
    }

    private func search(_ pattern: String, _ text: String) -> Bool {
        guard let re = regex(pattern) else { return false }
        return re.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) != nil
    }

    private func check(_ x: MetricsJSON, against s: MetricsJSON, path: [String], depth: Int,
                       into errors: inout [SchemaValidationError]) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(SchemaValidationError(path: pointer(path), keyword: keyword, message: message))
        }
        // A reference cycle that never moves into the instance would recurse forever; jsonschema would hit
        // Python's recursion limit there.
        guard depth < 256 else { return fail("$ref", "schema recursion deeper than 256 levels") }
        let o: MetricsJSONObject
        switch s {
        case .bool(true): return
        case .bool(false): return fail("false", "False schema does not allow \(x)")
        case let .object(obj): o = obj
        default: return
        }

        if let ref = o["$ref"]?.stringValue {
            if let target = Self.resolve(ref, in: schema) {
                check(x, against: target, path: path, depth: depth + 1, into: &errors)
            } else {
                fail("$ref", "unresolvable reference \(ref)")
            }
        }
        if let t = o["type"] {
            let names = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue].compactMap { $0 }
            if !names.contains(where: x.isType) {
                fail("type", "\(x) is not of type \(names.map { "'\($0)'" }.joined(separator: ", "))")
            }
        }
        if let e = o["enum"]?.arrayValue, !e.contains(x) { fail("enum", "\(x) is not one of \(MetricsJSON.array(e))") }
        if let c = o["const"], c != x { fail("const", "\(c) was expected") }

        checkNumber(x, o, fail)
        checkString(x, o, fail)
        checkArray(x, o, path: path, depth: depth, into: &errors)
        checkObject(x, o, path: path, depth: depth, into: &errors)

        if let all = o["allOf"]?.arrayValue {
            for sub in all { check(x, against: sub, path: path, depth: depth + 1, into: &errors) }
        }
        if let any = o["anyOf"]?.arrayValue,
           !any.contains(where: { subIsValid(x, $0, depth) }) {
            fail("anyOf", "\(x) is not valid under any of the given schemas")
        }
        if let one = o["oneOf"]?.arrayValue {
            let matching = one.filter { subIsValid(x, $0, depth) }.count
            if matching == 0 {
                fail("oneOf", "\(x) is not valid under any of the given schemas")
            } else if matching > 1 {
                fail("oneOf", "\(x) is valid under each of \(matching) of the given schemas")
            }
        }
        if let not = o["not"], subIsValid(x, not, depth) {
            fail("not", "\(x) should not be valid under \(not)")
        }
    }

    private func subIsValid(_ x: MetricsJSON, _ s: MetricsJSON, _ depth: Int) -> Bool {
        var sub: [SchemaValidationError] = []
        check(x, against: s, path: [], depth: depth + 1, into: &sub)
        return sub.isEmpty
    }

    private func checkNumber(_ x: MetricsJSON, _ o: MetricsJSONObject, _ fail: (String, String) -> Void) {
        guard case let .number(v) = x else { return }
        if let m = o["minimum"]?.numberValue, v < m { fail("minimum", "\(x) is less than the minimum of \(m)") }
        if let m = o["maximum"]?.numberValue, v > m { fail("maximum", "\(x) is greater than the maximum of \(m)") }
        if let m = o["exclusiveMinimum"]?.numberValue, v <= m {
            fail("exclusiveMinimum", "\(x) is less than or equal to the minimum of \(m)")
        }
        if let m = o["exclusiveMaximum"]?.numberValue, v >= m {
            fail("exclusiveMaximum", "\(x) is greater than or equal to the maximum of \(m)")
        }
        if let m = o["multipleOf"]?.numberValue, m > 0 {
            let q = v / m
            if !q.isFinite || q.rounded(.towardZero) != q { fail("multipleOf", "\(x) is not a multiple of \(m)") }
        }
    }

    private func checkString(_ x: MetricsJSON, _ o: MetricsJSONObject, _ fail: (String, String) -> Void) {
        guard case let .string(s) = x else { return }
        let length = s.unicodeScalars.count
        if let m = o["minLength"]?.numberValue, Double(length) < m { fail("minLength", "\(x) is too short") }
        if let m = o["maxLength"]?.numberValue, Double(length) > m { fail("maxLength", "\(x) is too long") }
        if let p = o["pattern"]?.stringValue, !search(p, s) { fail("pattern", "\(x) does not match '\(p)'") }
    }

    private func checkArray(_ x: MetricsJSON, _ o: MetricsJSONObject, path: [String], depth: Int,
                            into errors: inout [SchemaValidationError]) {
        let here = pointer(path)
        func fail(_ keyword: String, _ message: String) {
            errors.append(SchemaValidationError(path: here, keyword: keyword, message: message))
        }
        guard case let .array(a) = x else { return }
        if let m = o["minItems"]?.numberValue, Double(a.count) < m { fail("minItems", "\(x) is too short") }
        if let m = o["maxItems"]?.numberValue, Double(a.count) > m { fail("maxItems", "\(x) is too long") }
        let prefix = o["prefixItems"]?.arrayValue ?? []
        for (i, sub) in prefix.enumerated() where i < a.count {
            check(a[i], against: sub, path: path + [String(i)], depth: depth + 1, into: &errors)
        }
        if let items = o["items"], a.count > prefix.count {
            if case .bool(false) = items {
                fail("items", "expected at most \(prefix.count) items but found \(a.count - prefix.count) extra")
            } else {
                for i in prefix.count..<a.count {
                    check(a[i], against: items, path: path + [String(i)], depth: depth + 1, into: &errors)
                }
            }
        }
        if case .bool(true) = o["uniqueItems"] ?? .null {
            outer: for i in a.indices { for j in a.indices where j > i && a[i] == a[j] {
                fail("uniqueItems", "\(x) has non-unique elements")
                break outer
            } }
        }
    }

    private func checkObject(_ x: MetricsJSON, _ o: MetricsJSONObject, path: [String], depth: Int,
                             into errors: inout [SchemaValidationError]) {
        let here = pointer(path)
        func fail(_ keyword: String, _ message: String) {
            errors.append(SchemaValidationError(path: here, keyword: keyword, message: message))
        }
        guard case let .object(obj) = x else { return }
        let properties = o["properties"]?.objectValue ?? MetricsJSONObject()
        for (k, sub) in properties.members {
            if let v = obj[k] { check(v, against: sub, path: path + [k], depth: depth + 1, into: &errors) }
        }
        for name in o["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where obj[name] == nil {
            fail("required", "'\(name)' is a required property")
        }
        let patternProperties = o["patternProperties"]?.objectValue ?? MetricsJSONObject()
        for (p, sub) in patternProperties.members {
            for (k, v) in obj.members where search(p, k) {
                check(v, against: sub, path: path + [k], depth: depth + 1, into: &errors)
            }
        }
        guard let additional = o["additionalProperties"] else { return }
        let extras = obj.keys.filter { k in
            properties[k] == nil && !patternProperties.keys.contains { search($0, k) }
        }
        switch additional {
        case .object:
            for k in extras {
                if let v = obj[k] { check(v, against: additional, path: path + [k], depth: depth + 1, into: &errors) }
            }
        case .bool(false):
            if !extras.isEmpty {
                fail("additionalProperties", "Additional properties are not allowed (\(extras.map { "'\($0)'" }.joined(separator: ", ")) unexpected)")
            }
        default:
            break
        }
    }
}
