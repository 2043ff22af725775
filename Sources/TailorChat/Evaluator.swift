// Expression evaluation: Python semantics for operators, attribute/subscript access and undefined values.
import Foundation
import TailorText

extension Interpreter {
    func evaluate(_ expr: Expr) throws -> Value {
        try charge(1)
        switch expr {
        case let .literal(v):
            return v
        case let .name(n, _):
            return lookup(n)
        case let .list(items):
            return try checkedNesting(.array(try items.map(evaluate)))
        case let .tuple(items):
            return try checkedNesting(.tuple(try items.map(evaluate)))
        case let .dict(pairs):
            var d = Dict()
            for (k, v) in pairs {
                let key = try evaluate(k)
                d[key] = try evaluate(v)
            }
            return try checkedNesting(.object(d))
        case let .attribute(base, name, offset):
            return try located(offset) { try attribute(try evaluate(base), name) }
        case let .index(base, key, offset):
            return try located(offset) { try subscriptValue(try evaluate(base), try evaluate(key)) }
        case let .slice(base, start, stop, step, offset):
            let value = try evaluate(base)
            return try located(offset) {
                try slice(value, start: try start.map(evaluate), stop: try stop.map(evaluate), step: try step.map(evaluate))
            }
        case let .call(callee, args, kwargs, offset):
            let f = try evaluate(callee)
            let arguments = Arguments(positional: try args.map(evaluate), keyword: try kwargs.map { ($0.0, try evaluate($0.1)) })
            return try callValue(f, arguments, offset: offset)
        case let .filter(base, name, args, kwargs, offset):
            let value = try evaluate(base)
            return try applyFilter(name, value, try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) }, offset: offset)
        case let .test(base, name, args, negated, offset):
            let value = try evaluate(base)
            let result = try located(offset) { try applyTest(name, value, try args.map(evaluate)) }
            return .bool(result != negated)
        case let .unary(op, operand, offset):
            let v = try evaluate(operand)
            return try located(offset) {
                switch (op, v) {
                case ("-", .int(let i)):
                    guard i != Int.min else { throw ChatTemplateError.limitExceeded("integer overflow in unary '-'") }
                    return .int(-i)
                case ("-", .double(let d)): return .double(-d)
                case ("-", .bool(let b)): return .int(b ? -1 : 0)
                case ("+", .int), ("+", .double): return v
                case ("+", .bool(let b)): return .int(b ? 1 : 0)
                default: throw unsupported(v, "unary \(op)")
                }
            }
        case let .binary(op, l, r, offset):
            let a = try evaluate(l)
            let b = try evaluate(r)
            return try located(offset) { try arithmetic(op, a, b) }
        case let .and(l, r):
            let a = try evaluate(l)
            return a.truthy ? try evaluate(r) : a
        case let .or(l, r):
            let a = try evaluate(l)
            return a.truthy ? a : try evaluate(r)
        case let .not(e):
            return .bool(!(try evaluate(e).truthy))
        case let .compare(first, ops, offset):
            var left = try evaluate(first)
            for (op, e) in ops {
                let right = try evaluate(e)
                let ok = try located(offset) { try compare(op, left, right) }
                if !ok { return .bool(false) }
                left = right
            }
            return .bool(true)
        case let .concat(items, offset):
            var s = ""
            for item in items { s += try evaluate(item).str }
            try located(offset) { try chargeString(s.utf8.count) }
            return .string(s)
        case let .conditional(test, then, otherwise):
            if try evaluate(test).truthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined("the conditional expression's else branch is undefined")
        }
    }

    private func unsupported(_ v: Value, _ what: String) -> ChatTemplateError {
        .runtime("bad operand type for \(what): '\(v.typeName)'")
    }

    // MARK: - Access

    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]

    /// `obj.name`: dict methods first (as Python's getattr), then the key; missing gives undefined.
    func attribute(_ obj: Value, _ name: String) throws -> Value {
        switch obj.unmarked {
        case let .undefined(message):
            throw ChatTemplateError.runtime(message)
        case let .object(d):
            if Interpreter.dictMethods.contains(name) { return dictMethod(d, name) }
            return d[name] ?? .undefined("'dict object' has no attribute '\(name)'")
        case let .namespace(ns):
            return ns.attributes[name] ?? .undefined("'Namespace' object has no attribute '\(name)'")
        case let .string(s):
            if let m = stringMethod(s, name) { return m }
            return .undefined("'str object' has no attribute '\(name)'")
        default:
            return .undefined("'\(obj.typeName) object' has no attribute '\(name)'")
        }
    }

    /// `obj[key]`: Python indexing; a missing key or index gives undefined.
    func subscriptValue(_ obj: Value, _ key: Value) throws -> Value {
        let obj = obj.unmarked, key = key.unmarked
        switch (obj, key) {
        case let (.undefined(message), _):
            throw ChatTemplateError.runtime(message)
        case let (.object(d), .string(k)):
            return d[k] ?? .undefined("'dict object' has no attribute '\(k)'")
        case let (.object(d), _):
            return d[key] ?? .undefined("'dict object' has no item \(key.repr)")
        case let (.namespace(ns), .string(k)):
            return ns.attributes[k] ?? .undefined("'Namespace' object has no attribute '\(k)'")
        case let (.array(a), _), let (.tuple(a), _):
            guard let i = key.integer else { return .undefined("list indices must be integers") }
            let j = i < 0 ? a.count + i : i
            return (0..<a.count).contains(j) ? a[j] : .undefined("list index \(i) out of range")
        case let (.string(s), _):
            guard let i = key.integer else { return .undefined("string indices must be integers") }
            let scalars = Array(s.unicodeScalars)
            let j = i < 0 ? scalars.count + i : i
            return (0..<scalars.count).contains(j) ? .string(String(scalars[j])) : .undefined("string index \(i) out of range")
        default:
            return .undefined("'\(obj.typeName) object' has no item \(key.repr)")
        }
    }

    /// Python slicing `x[start:stop:step]` on lists, tuples and strings.
    func slice(_ obj: Value, start: Value?, stop: Value?, step: Value?) throws -> Value {
        func intOrNil(_ v: Value?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let i = v.integer else { throw ChatTemplateError.runtime("slice indices must be integers or None") }
            return i
        }
        let st = try intOrNil(step) ?? 1
        guard st != 0 else { throw ChatTemplateError.runtime("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ v: Int?, _ defaultValue: Int) -> Int {
                guard var x = v else { return defaultValue }
                if x < 0 { x += count }
                return st > 0 ? min(max(x, 0), count) : min(max(x, -1), count - 1)
            }
            let lo = clamp(try intOrNil(start), st > 0 ? 0 : count - 1)
            let hi = clamp(try intOrNil(stop), st > 0 ? count : -1)
            return Array(stride(from: lo, to: hi, by: st))
        }
        switch obj.unmarked {
        case let .array(a): return .array(try indices(a.count).map { a[$0] })
        case let .tuple(a): return .tuple(try indices(a.count).map { a[$0] })
        case let .string(s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case let .undefined(message): throw ChatTemplateError.runtime(message)
        default: throw ChatTemplateError.runtime("'\(obj.typeName)' object is not subscriptable")
        }
    }

    // MARK: - Operators

    func arithmetic(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        if case let .undefined(message) = a { throw ChatTemplateError.runtime(message) }
        if case let .undefined(message) = b { throw ChatTemplateError.runtime(message) }
        // Markup + str escapes the plain operand and stays Markup (markupsafe's __add__ / __radd__).
        switch (op, a, b) {
        case let ("+", .markup(x), .markup(y)): return .markup(x + y)
        case let ("+", .markup(x), .string(y)): return .markup(x + HTMLText.escaped(y))
        case let ("+", .string(x), .markup(y)): return .markup(HTMLText.escaped(x) + y)
        default: break
        }
        let a = a.unmarked, b = b.unmarked
        switch (op, a, b) {
        case let ("+", .string(x), .string(y)):
            try chargeString(x.utf8.count + y.utf8.count)
            return .string(x + y)
        case let ("+", .array(x), .array(y)):
            try chargeItems(x.count + y.count, "list")
            return .array(x + y)
        case let ("+", .tuple(x), .tuple(y)):
            try chargeItems(x.count + y.count, "tuple")
            return .tuple(x + y)
        case let ("%", .string(format), _):
            // printf-style formatting; a tuple supplies several arguments, anything else one.
            let args: [Value]
            if case let .tuple(items) = b { args = items } else { args = [b] }
            let s = try pythonPercentFormat(format, args)
            try chargeString(s.utf8.count)
            return .string(s)
        case let ("*", .string(s), _) where b.integer != nil, let ("*", _, .string(s)) where a.integer != nil:
            let n = max(0, (b.integer ?? a.integer) ?? 0)
            let (total, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
            try chargeString(overflow ? Int.max : total)
            return .string(String(repeating: s, count: n))
        case let ("*", .array(x), _) where b.integer != nil:
            let n = max(0, b.integer ?? 0)
            let (total, overflow) = x.count.multipliedReportingOverflow(by: n)
            try chargeItems(overflow ? Int.max : total, "list")
            return .array(Array([[Value]](repeating: x, count: n).joined()))
        default:
            break
        }
        if let x = a.integer, let y = b.integer, case .bool = a, case .bool = b {
            return try integerArithmetic(op, x, y)
        }
        if let x = a.integer, let y = b.integer { return try integerArithmetic(op, x, y) }
        guard let x = a.number, let y = b.number else {
            throw ChatTemplateError.runtime("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw ChatTemplateError.runtime("float division by zero") }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw ChatTemplateError.runtime("float floor division by zero") }
            return .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw ChatTemplateError.runtime("float modulo") }
            let r = x.truncatingRemainder(dividingBy: y)
            return .double(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case "**": return .double(Foundation.pow(x, y))
        default: throw ChatTemplateError.runtime("unknown operator \(op)")
        }
    }

    private func integerArithmetic(_ op: String, _ x: Int, _ y: Int) throws -> Value {
        func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
            if r.overflow { throw ChatTemplateError.limitExceeded("integer overflow in '\(op)'") }
            return .int(r.partialValue)
        }
        switch op {
        case "+": return try checked(x.addingReportingOverflow(y))
        case "-": return try checked(x.subtractingReportingOverflow(y))
        case "*": return try checked(x.multipliedReportingOverflow(by: y))
        case "/":
            guard y != 0 else { throw ChatTemplateError.runtime("division by zero") }
            return .double(Double(x) / Double(y))
        case "//", "%":
            guard y != 0 else { throw ChatTemplateError.runtime("integer division or modulo by zero") }
            // Int.min // -1 is the one quotient that does not fit; its remainder is 0.
            if x == Int.min && y == -1 {
                if op == "%" { return .int(0) }
                throw ChatTemplateError.limitExceeded("integer overflow in '//'")
            }
            // Python floors the quotient, so the remainder takes the divisor's sign.
            var q = x / y
            var r = x % y
            if r != 0 && ((r < 0) != (y < 0)) { q -= 1; r += y }
            return .int(op == "//" ? q : r)
        case "**":
            if y < 0 { return .double(Foundation.pow(Double(x), Double(y))) }
            var result = 1
            for _ in 0..<min(y, 64) {
                let (p, o) = result.multipliedReportingOverflow(by: x)
                if o { throw ChatTemplateError.limitExceeded("integer overflow in '**'") }
                result = p
            }
            if y > 64 && abs(x) > 1 { throw ChatTemplateError.limitExceeded("integer overflow in '**'") }
            if y > 64 && x == -1 { return .int(y % 2 == 0 ? 1 : -1) }
            return .int(result)
        default:
            throw ChatTemplateError.runtime("unknown operator \(op)")
        }
    }

    func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case "==": return pythonEquals(a, b)
        case "!=": return !pythonEquals(a, b)
        case "<": return try pythonCompare(a, b) < 0
        case "<=": return try pythonCompare(a, b) <= 0
        case ">": return try pythonCompare(a, b) > 0
        case ">=": return try pythonCompare(a, b) >= 0
        case "in": return try contains(b, a)
        case "notin": return !(try contains(b, a))
        default: throw ChatTemplateError.runtime("unknown comparison \(op)")
        }
    }

    /// Python `item in container`.
    func contains(_ container: Value, _ item: Value) throws -> Bool {
        let container = container.unmarked, item = item.unmarked
        switch container {
        case let .string(s):
            guard case let .string(sub) = item else {
                throw ChatTemplateError.runtime("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return sub.isEmpty || s.contains(sub)
        case let .array(a), let .tuple(a): return a.contains { pythonEquals($0, item) }
        case let .object(d): return d[item] != nil
        case let .generator(items): return items.contains { pythonEquals($0, item) }
        case let .namespace(ns): return ns.attributes[item.str] != nil
        case .undefined: return false
        default: throw ChatTemplateError.runtime("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
