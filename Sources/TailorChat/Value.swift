// Runtime values of the Jinja interpreter, with Python's truthiness, str(), repr() and equality.
import TailorText

/// Hashable identity of a dict key with Python's rules: 1, 1.0 and True are the same key.
enum DictKey: Hashable {
    case string(String), int(Int), double(UInt64), none, other(String)

    init(_ v: Value) {
        switch v {
        case let .string(s), let .markup(s): self = .string(s)
        case let .int(i): self = .int(i)
        case let .bool(b): self = .int(b ? 1 : 0)
        case let .double(d):
            if d.rounded() == d, abs(d) < 9.0e18 { self = .int(Int(d)) } else { self = .double(d.bitPattern) }
        case .none: self = .none
        default: self = .other(v.repr)
        }
    }
}

/// An ordered mapping (a Python dict as templates see it); keys are usually strings but may be numbers.
struct Dict {
    private(set) var keys: [Value] = []
    private var storage: [DictKey: Value] = [:]

    init() {}
    init(_ pairs: [(String, Value)]) { for (k, v) in pairs { self[k] = v } }
    init(valuePairs: [(Value, Value)]) { for (k, v) in valuePairs { self[k] = v } }

    var count: Int { keys.count }
    var pairs: [(Value, Value)] { keys.map { ($0, storage[DictKey($0)] ?? .none) } }
    var values: [Value] { keys.map { storage[DictKey($0)] ?? .none } }

    subscript(key: Value) -> Value? {
        get { storage[DictKey(key)] }
        set {
            let k = DictKey(key)
            if let newValue {
                if storage.updateValue(newValue, forKey: k) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: k) != nil {
                keys.removeAll { DictKey($0) == k }
            }
        }
    }

    subscript(key: String) -> Value? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }
}

/// Mutable attribute bag made by `namespace()`; shared by reference so `set ns.x = ...` is seen everywhere.
final class Namespace {
    var attributes = Dict()
    init(_ attributes: Dict) { self.attributes = attributes }
}

/// Arguments of a call: positional then keyword.
struct Arguments {
    var positional: [Value] = []
    var keyword: [(String, Value)] = []

    /// The argument at `index` or named `name`, else nil.
    func value(_ index: Int, _ name: String) -> Value? {
        if let kw = keyword.first(where: { $0.0 == name }) { return kw.1 }
        return index < positional.count ? positional[index] : nil
    }
}

/// A function value (global, bound method, macro, loop.cycle, caller).
struct Callable {
    let name: String
    let call: (Arguments) throws -> Value
}

indirect enum Value {
    /// `name` says what was missing, for the error message when it is used.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    case tuple([Value])
    case object(Dict)
    case namespace(Namespace)
    case callable(Callable)
    /// What jinja2's map/select/reject/unique/items filters return: iterable once, always truthy, no len().
    case generator([Value])
    /// markupsafe.Markup (from `safe`/`escape`): a string, except that `Markup + str` HTML-escapes the str.
    case markup(String)

    /// The value with Markup turned into a plain string; everything but `+` treats Markup as a string.
    var unmarked: Value {
        if case let .markup(s) = self { return .string(s) }
        return self
    }

    init(_ v: JinjaValue) {
        switch v {
        case .none: self = .none
        case .undefined: self = .undefined("value")
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .double(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .array(a): self = .array(a.map(Value.init))
        case let .object(o): self = .object(Dict(o.map { ($0.0, Value($0.1)) }))
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
    var isNone: Bool { if case .none = self { return true } else { return false } }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .double(d): return d != 0
        case let .string(s), let .markup(s): return !s.isEmpty
        case let .array(a), let .tuple(a): return !a.isEmpty
        case let .object(d): return d.count > 0
        case .namespace, .callable, .generator: return true
        }
    }

    /// The elements of a list or tuple.
    var sequence: [Value]? {
        switch self {
        case let .array(a), let .tuple(a): return a
        default: return nil
        }
    }

    /// Python `str()`: what `{{ x }}` prints.
    var str: String {
        switch self {
        case .undefined: return ""
        case let .string(s), let .markup(s): return s
        default: return repr
        }
    }

    /// Python `repr()`, used for items inside printed lists and dicts.
    var repr: String {
        var out = ""
        repr(into: &out, depth: 0, cap: Value.reprByteCap)
        return out
    }

    /// `str()` that stops once more than `cap` bytes are written (the caller then reports the size limit).
    func str(cap: Int) -> String {
        switch self {
        case .undefined: return ""
        case let .string(s), let .markup(s): return s
        default:
            var out = ""
            repr(into: &out, depth: 0, cap: min(cap, Value.reprByteCap))
            return out
        }
    }

    /// Printing stops growing once this many bytes are written: far above `Limits.maxOutputBytes`' default, so the
    /// caller's size check still fails, but a list holding a million references to a million-item list (cheap to
    /// build, copy-on-write) cannot make one print allocate gigabytes first.
    static let reprByteCap = 64 << 20

    /// Nesting beyond 256 levels prints "..." (Python would raise RecursionError near 1000).
    private func repr(into out: inout String, depth: Int, cap: Int) {
        if out.utf8.count > cap { return }
        if depth > 256 { out += "..."; return }
        func items(_ a: [Value], _ open: String, _ close: String) {
            out += open
            for (i, item) in a.enumerated() {
                if out.utf8.count > cap { return }
                if i > 0 { out += ", " }
                item.repr(into: &out, depth: depth + 1, cap: cap)
            }
            out += close
        }
        switch self {
        case .undefined: return
        case .none: out += "None"
        case let .bool(b): out += b ? "True" : "False"
        case let .int(i): out += String(i)
        case let .double(d): out += pythonFloatRepr(d)
        case let .string(s): out += pythonStringRepr(s)
        case let .array(a): items(a, "[", "]")
        case let .tuple(a): items(a, "(", a.count == 1 ? ",)" : ")")
        case let .object(d):
            out += "{"
            for (i, (k, v)) in d.pairs.enumerated() {
                if out.utf8.count > cap { return }
                if i > 0 { out += ", " }
                k.repr(into: &out, depth: depth + 1, cap: cap)
                out += ": "
                v.repr(into: &out, depth: depth + 1, cap: cap)
            }
            out += "}"
        // A namespace can hold itself, so its contents are not printed.
        case .namespace: out += "<Namespace>"
        case let .callable(c): out += "<function \(c.name)>"
        case .generator: out += "<generator object>"
        case let .markup(s): out += "Markup(" + pythonStringRepr(s) + ")"
        }
    }

    /// Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .tuple: return "tuple"
        case .object: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        case .generator: return "generator"
        case .markup: return "Markup"
        }
    }

    /// Converts back to the public data model (namespaces become objects, callables none).
    var jinjaValue: JinjaValue {
        switch self {
        case .undefined: return .undefined
        case .none: return .none
        case let .bool(b): return .bool(b)
        case let .int(i): return .int(i)
        case let .double(d): return .double(d)
        case let .string(s): return .string(s)
        case let .array(a), let .tuple(a): return .array(a.map(\.jinjaValue))
        case let .object(d): return .object(d.pairs.map { ($0.0.str, $0.1.jinjaValue) })
        case let .namespace(ns): return .object(ns.attributes.pairs.map { ($0.0.str, $0.1.jinjaValue) })
        case .callable: return .none
        case let .generator(items): return .array(items.map(\.jinjaValue))
        case let .markup(s): return .string(s)
        }
    }

    /// Numeric view for arithmetic and comparisons (bool counts as int, as in Python).
    var number: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    var integer: Int? {
        switch self {
        case let .int(i): return i
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// Python `==` (1 == 1.0 == True; lists and dicts compare element-wise; undefined equals only undefined).
func pythonEquals(_ a: Value, _ b: Value) -> Bool {
    switch (a.unmarked, b.unmarked) {
    case (.undefined, .undefined), (.none, .none): return true
    case let (.string(x), .string(y)): return x == y
    case let (.array(x), .array(y)), let (.tuple(x), .tuple(y)):
        return x.count == y.count && zip(x, y).allSatisfy { pythonEquals($0, $1) }
    case let (.object(x), .object(y)):
        guard x.count == y.count else { return false }
        return x.pairs.allSatisfy { k, v in y[k].map { pythonEquals(v, $0) } ?? false }
    case let (.namespace(x), .namespace(y)): return x === y
    default:
        if let x = a.integer, let y = b.integer { return x == y }
        if let x = a.number, let y = b.number { return x == y }
        return false
    }
}

/// Python ordering for `<`, `sort` and friends; throws on unorderable types as Python does.
func pythonCompare(_ a: Value, _ b: Value) throws -> Int {
    let a = a.unmarked, b = b.unmarked
    switch (a, b) {
    case let (.string(x), .string(y)):
        // Python compares strings by code point.
        let xs = Array(x.unicodeScalars), ys = Array(y.unicodeScalars)
        for (p, q) in zip(xs, ys) where p != q { return p.value < q.value ? -1 : 1 }
        return xs.count == ys.count ? 0 : (xs.count < ys.count ? -1 : 1)
    case let (.array(x), .array(y)), let (.tuple(x), .tuple(y)):
        for (p, q) in zip(x, y) where !pythonEquals(p, q) { return try pythonCompare(p, q) }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    default:
        if let x = a.integer, let y = b.integer { return x == y ? 0 : (x < y ? -1 : 1) }
        if let x = a.number, let y = b.number { return x == y ? 0 : (x < y ? -1 : 1) }
        throw ChatTemplateError.runtime("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }
}
