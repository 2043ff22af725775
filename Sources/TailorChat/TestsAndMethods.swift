// Jinja tests (`x is name`), Python str and dict methods, and the global functions templates call.
import Foundation

extension Interpreter {
    func applyTest(_ name: String, _ value: Value, _ args: [Value]) throws -> Bool {
        let value = value.unmarked
        func arg() throws -> Value {
            guard let first = args.first else { throw ChatTemplateError.runtime("test '\(name)' needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "string": if case .string = value { return true } else { return false }
        case "number": return value.number != nil
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "mapping":
            switch value {
            case .object: return true
            default: return false
            }
        case "iterable":
            switch value {
            case .string, .array, .tuple, .object, .undefined, .generator: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .string, .array, .tuple, .object: return true
            default: return false
            }
        case "callable": if case .callable = value { return true } else { return false }
        case "filter": return KnownNames.filters.contains(value.str)
        case "test": return KnownNames.tests.contains(value.str)
        case "equalto", "eq", "==": return pythonEquals(value, try arg())
        case "ne", "!=": return !pythonEquals(value, try arg())
        case "lt", "lessthan", "<": return try pythonCompare(value, try arg()) < 0
        case "le", "<=": return try pythonCompare(value, try arg()) <= 0
        case "gt", "greaterthan", ">": return try pythonCompare(value, try arg()) > 0
        case "ge", ">=": return try pythonCompare(value, try arg()) >= 0
        case "in": return try contains(try arg(), value)
        case "sameas":
            let other = try arg()
            switch (value, other) {
            case let (.namespace(x), .namespace(y)): return x === y
            case (.none, .none), (.undefined, .undefined): return true
            case let (.bool(x), .bool(y)): return x == y
            default: return false
            }
        case "odd", "even", "divisibleby":
            guard let i = value.integer else { throw ChatTemplateError.runtime("test '\(name)' needs an integer, not \(value.typeName)") }
            if name == "odd" { return i % 2 != 0 }
            if name == "even" { return i % 2 == 0 }
            guard let d = try arg().integer, d != 0 else { throw ChatTemplateError.runtime("divisibleby needs a non-zero integer") }
            return i % d == 0
        case "lower": return value.str == value.str.lowercased()
        case "upper": return value.str == value.str.uppercased()
        default: throw ChatTemplateError.runtime("no test named '\(name)'")
        }
    }

    // MARK: - Methods

    func dictMethod(_ d: Dict, _ name: String) -> Value {
        .callable(Callable(name: "dict.\(name)") { [unowned self] args in
            try self.checkedNesting(try self.callDictMethod(d, name, args))
        })
    }

    private func callDictMethod(_ d: Dict, _ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "items": return .array(d.pairs.map { .tuple([$0.0, $0.1]) })
        case "keys": return .array(d.keys)
        case "values": return .array(d.values)
        default:
            guard let key = args.value(0, "key") else { throw ChatTemplateError.runtime("get() needs a key") }
            return d[key] ?? args.value(1, "default") ?? Value.none
        }
    }

    /// Python `str` methods templates use; nil when the name is not one of them.
    func stringMethod(_ s: String, _ name: String) -> Value? {
        let method: (Arguments) throws -> Value
        switch name {
        case "strip", "lstrip", "rstrip":
            method = { a in
                let chars = a.value(0, "chars").flatMap { $0.isNone ? nil : $0.str }
                return .string(pythonStrip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            method = { [unowned self] a in
                let sep = a.value(0, "sep").flatMap { $0.isNone ? nil : $0.str }
                // Splitting one past the collection limit is enough to know the result is too long.
                let limit = self.limits.maxCollectionCount
                let requested = a.value(1, "maxsplit")?.integer ?? -1
                let maxsplit = requested < 0 ? limit : min(requested, limit)
                if sep == "" { throw ChatTemplateError.runtime("empty separator") }
                let parts = name == "split" ? pythonSplit(s, sep: sep, maxsplit: maxsplit)
                    : pythonRSplit(s, sep: sep, maxsplit: maxsplit)
                try self.chargeItems(parts.count)
                try self.charge(s.utf8.count / 64)
                return .array(parts.map { .string($0) })
            }
        case "startswith", "endswith":
            method = { a in
                guard let p = a.value(0, "prefix") else { throw ChatTemplateError.runtime("\(name)() needs an argument") }
                let candidates = p.sequence ?? [p]
                return .bool(candidates.contains { c in name == "startswith" ? s.hasPrefix(c.str) : s.hasSuffix(c.str) })
            }
        case "upper": method = { _ in .string(s.uppercased()) }
        case "lower": method = { _ in .string(s.lowercased()) }
        case "title": method = { _ in .string(pythonTitle(s)) }
        case "capitalize": method = { _ in .string(pythonCapitalize(s)) }
        case "replace":
            method = { [unowned self] a in
                guard let old = a.value(0, "old")?.str, let new = a.value(1, "new")?.str else {
                    throw ChatTemplateError.runtime("replace() needs 'old' and 'new'")
                }
                return .string(try self.boundedReplace(s, old, new, count: a.value(2, "count")?.integer ?? -1))
            }
        case "find":
            method = { a in
                let sub = a.value(0, "sub")?.str ?? ""
                guard let r = s.range(of: sub) else { return .int(-1) }
                return .int(s.unicodeScalars.distance(from: s.startIndex, to: r.lowerBound))
            }
        case "count":
            method = { a in
                let sub = a.value(0, "sub")?.str ?? ""
                if sub.isEmpty { return .int(s.unicodeScalars.count + 1) }
                return .int(utf8Matches(of: Array(sub.utf8), in: Array(s.utf8)).count)
            }
        case "join":
            method = { [unowned self] a in
                let items = try self.iterate(a.value(0, "iterable") ?? .array([]), offset: 0)
                return .string(try self.joined(items, separator: s))
            }
        case "splitlines":
            method = { [unowned self] _ in
                let lines = pythonSplitLines(s)
                try self.chargeItems(lines.count)
                return .array(lines.map { .string($0) })
            }
        case "isdigit": method = { _ in .bool(!s.isEmpty && s.allSatisfy(\.isNumber)) }
        case "isalpha": method = { _ in .bool(!s.isEmpty && s.allSatisfy(\.isLetter)) }
        case "isspace": method = { _ in .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace)) }
        case "format":
            method = { [unowned self] a in
                let r = try pythonFormat(s, a)
                try self.chargeString(r.utf8.count)
                return .string(r)
            }
        default:
            return nil
        }
        return .callable(Callable(name: "str.\(name)", call: method))
    }

    // MARK: - Globals

    func makeGlobals() -> [String: Value] {
        var g: [String: Value] = [:]
        g["raise_exception"] = .callable(Callable(name: "raise_exception") { a in
            throw ChatTemplateError.raised(a.value(0, "message")?.str ?? "")
        })
        g["range"] = .callable(Callable(name: "range") { [unowned self] a in
            let ints = try a.positional.map { v -> Int in
                guard let i = v.integer else { throw ChatTemplateError.runtime("range() needs integers, not \(v.typeName)") }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw ChatTemplateError.runtime("range expected 1 to 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw ChatTemplateError.runtime("range() arg 3 must not be zero") }
            // The span can exceed Int.max (range(INT_MIN, INT_MAX)); its magnitude always fits UInt.
            let ascending = step > 0
            guard ascending ? stop > start : stop < start else { return .array([]) }
            let span = ascending ? UInt(bitPattern: stop &- start) : UInt(bitPattern: start &- stop)
            let count = (span - 1) / step.magnitude + 1
            try self.chargeItems(count > UInt(Int.max) ? Int.max : Int(count), "range")
            // Every value lies between start and stop, so the wrapping arithmetic gives the exact value.
            return .array((0..<Int(count)).map { .int(start &+ $0 &* step) })
        })
        g["dict"] = .callable(Callable(name: "dict") { [unowned self] a in
            var d = Dict()
            if case let .object(base)? = a.positional.first { d = base }
            for (k, v) in a.keyword { d[k] = v }
            return try self.checkedNesting(.object(d))
        })
        g["namespace"] = .callable(Callable(name: "namespace") { [unowned self] a in
            var d = Dict()
            if case let .object(base)? = a.positional.first { d = base }
            for (k, v) in a.keyword { d[k] = v }
            let ns = Namespace(d)
            self.namespaces.append(ns)
            return try self.checkedNesting(.namespace(ns))
        })
        g["strftime_now"] = .callable(Callable(name: "strftime_now") { [unowned self] a in
            .string(pythonStrftime(a.value(0, "format")?.str ?? "", self.clock, self.timeZone))
        })
        return g
    }
}
