// Interpreter: executes the statement tree with jinja2 scoping, loop variables, macros, and the safety limits.
import Foundation

/// Result of running a statement list: normal completion or a loop control jump.
enum ControlFlow {
    case normal, breakLoop, continueLoop
}

final class Interpreter {
    let map: SourceMap
    let sourceName: String
    let limits: ChatTemplate.Limits
    let clock: Date
    let timeZone: TimeZone

    /// Scope chain, innermost last. frames[0] holds globals and the render context; for-loop bodies and macro calls
    /// push frames, so `set` inside them does not leak (hence `namespace()`).
    var frames: [[String: Value]]
    /// Output buffers; block set, macros, call and filter blocks capture into a pushed buffer.
    private var buffers: [String] = [""]
    private var producedBytes = 0
    private var iterations = 0
    private var callDepth = 0
    private var steps = 0
    /// UTF-8 byte ranges of top-level `{% generation %}` blocks, in output order.
    var generationRanges: [Range<Int>] = []
    /// Every namespace created, so `render` can empty them (a namespace can reference itself).
    var namespaces: [Namespace] = []

    init(map: SourceMap, sourceName: String, limits: ChatTemplate.Limits, clock: Date, timeZone: TimeZone, context: [String: Value]) {
        self.map = map
        self.sourceName = sourceName
        self.limits = limits
        self.clock = clock
        self.timeZone = timeZone
        frames = [context]
        frames[0].merge(makeGlobals()) { contextValue, _ in contextValue }
    }

    /// Renders the template and returns the output.
    func render(_ nodes: [Node]) throws -> String {
        // Macros capture the interpreter and a namespace may hold itself; clearing both breaks those cycles.
        defer {
            frames = []
            for ns in namespaces { ns.attributes = Dict() }
        }
        let flow = try execute(nodes)
        if flow != .normal { throw ChatTemplateError.runtime("'break' or 'continue' outside of a for loop") }
        return buffers[0]
    }

    // MARK: - Errors and limits

    /// `name:line:column: ` for a source offset; every runtime and limit error starts with it.
    private func position(_ offset: Int) -> String {
        let (line, column) = map.location(offset)
        return "\(sourceName):\(line):\(column): "
    }

    func runtimeError(_ offset: Int, _ message: String) -> ChatTemplateError {
        .runtime(position(offset) + message)
    }

    /// Adds the template's name, line and column to errors that do not have them yet.
    func located<T>(_ offset: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let ChatTemplateError.runtime(message) where !message.hasPrefix(sourceName + ":") {
            throw runtimeError(offset, message)
        } catch let ChatTemplateError.limitExceeded(message) where !message.hasPrefix(sourceName + ":") {
            throw ChatTemplateError.limitExceeded(position(offset) + message)
        }
    }

    /// Spends `units` of the render's step budget (`Limits.maxSteps`).
    func charge(_ units: Int) throws {
        steps = steps.addingReportingOverflow(max(0, units)).partialValue
        if steps > limits.maxSteps || steps < 0 {
            throw ChatTemplateError.limitExceeded("more than maxSteps \(limits.maxSteps) steps of work")
        }
    }

    /// Charges for building a string of `bytes` bytes, after checking it against `maxOutputBytes`.
    func chargeString(_ bytes: Int, _ what: String = "string") throws {
        try checkSize(bytes, what)
        try charge(bytes / 64)
    }

    /// Charges for building a collection of `count` items, after checking it against `maxCollectionCount`.
    func chargeItems(_ count: Int, _ what: String = "list") throws {
        try checkCount(count, what)
        try charge(count)
    }

    func checkSize(_ count: Int, _ what: String) throws {
        if count > limits.maxOutputBytes {
            throw ChatTemplateError.limitExceeded("\(what) of \(count) bytes exceeds maxOutputBytes \(limits.maxOutputBytes)")
        }
    }

    func checkCount(_ count: Int, _ what: String) throws {
        if count > limits.maxCollectionCount {
            throw ChatTemplateError.limitExceeded("\(what) with \(count) items exceeds maxCollectionCount \(limits.maxCollectionCount)")
        }
    }

    /// Returns `value` after checking that its container nesting stays within `maxNestingDepth`. Called wherever a
    /// template wraps existing values in a new container, so every live value is bounded and this walk is too.
    func checkedNesting(_ value: Value) throws -> Value {
        var seen = Set<ObjectIdentifier>()
        func depth(_ v: Value, _ level: Int) throws -> Int {
            if level > limits.maxNestingDepth {
                throw ChatTemplateError.limitExceeded("values nested deeper than maxNestingDepth \(limits.maxNestingDepth)")
            }
            let children: [Value]
            switch v {
            case let .array(a), let .tuple(a), let .generator(a): children = a
            case let .object(d): children = d.values
            case let .namespace(ns):
                // A namespace may (indirectly) hold itself; each one is walked once.
                guard seen.insert(ObjectIdentifier(ns)).inserted else { return 1 }
                children = ns.attributes.values
            default: return 0
            }
            var deepest = 0
            for child in children {
                switch child {
                case .array, .tuple, .generator, .object, .namespace: deepest = max(deepest, try depth(child, level + 1))
                default: continue
                }
            }
            return deepest + 1
        }
        _ = try depth(value, 0)
        return value
    }

    private func emit(_ text: String) throws {
        producedBytes += text.utf8.count
        if producedBytes > limits.maxOutputBytes {
            throw ChatTemplateError.limitExceeded("output exceeds maxOutputBytes \(limits.maxOutputBytes)")
        }
        buffers[buffers.count - 1] += text
    }

    func capture(_ body: () throws -> ControlFlow) throws -> (String, ControlFlow) {
        buffers.append("")
        defer { buffers.removeLast() }
        let flow = try body()
        return (buffers[buffers.count - 1], flow)
    }

    // MARK: - Variables

    func lookup(_ name: String) -> Value {
        for frame in frames.reversed() { if let v = frame[name] { return v } }
        return .undefined("'\(name)' is undefined")
    }

    private func assign(_ target: Target, _ value: Value, offset: Int) throws {
        switch target {
        case let .name(n):
            frames[frames.count - 1][n] = value
        case let .attribute(n, attr):
            guard case let .namespace(ns) = lookup(n) else {
                throw runtimeError(offset, "cannot assign attribute on non-namespace object '\(n)'")
            }
            ns.attributes[attr] = value
        case let .tuple(targets):
            guard let items = try? iterate(value, offset: offset), items.count == targets.count else {
                throw runtimeError(offset, "cannot unpack \(value.typeName) into \(targets.count) names")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, offset: offset) }
        }
    }

    /// The items a `for` loop visits: list/tuple elements, dict keys, string characters; undefined is empty.
    func iterate(_ value: Value, offset: Int) throws -> [Value] {
        switch value.unmarked {
        case let .array(a), let .tuple(a): return a
        case let .object(d): return d.keys
        case let .generator(items): return items
        case let .string(s):
            try chargeItems(s.unicodeScalars.count, "string iterated as a list")
            return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw runtimeError(offset, "'\(value.typeName)' object is not iterable")
        }
    }

    // MARK: - Statements

    func execute(_ nodes: [Node]) throws -> ControlFlow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: Node) throws -> ControlFlow {
        switch node {
        case let .text(t):
            try emit(t)
        case let .output(e, offset):
            let v = try evaluate(e)
            try located(offset) { try emit(v.str(cap: limits.maxOutputBytes)) }
        case let .ifChain(branches, otherwise):
            for (test, body) in branches where try evaluate(test).truthy { return try execute(body) }
            return try execute(otherwise)
        case let .forLoop(target, iterable, filter, body, otherwise, offset):
            return try runFor(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, offset: offset)
        case let .set(target, e, offset):
            try assign(target, try evaluate(e), offset: offset)
        case let .setBlock(target, body, filters, offset):
            var (text, _) = try capture { try execute(body) }
            var value = Value.string(text)
            for (name, args, kwargs) in filters {
                value = try applyFilter(name, value, try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) }, offset: offset)
            }
            text = value.str
            try assign(target, value, offset: offset)
        case let .macro(definition):
            frames[frames.count - 1][definition.name] = .callable(makeMacro(definition))
        case let .callBlock(call, callerParameters, body, offset):
            guard case let .call(callee, args, kwargs, _) = call else { return .normal }
            // caller() renders the block in the scope where the call block stands.
            let caller = makeMacro(MacroDefinition(name: "caller", parameters: callerParameters, body: body), scope: frames)
            var arguments = Arguments(positional: try args.map(evaluate), keyword: try kwargs.map { ($0.0, try evaluate($0.1)) })
            arguments.keyword.append(("caller", .callable(caller)))
            let result = try callValue(try evaluate(callee), arguments, offset: offset)
            try emit(result.str)
        case let .filterBlock(filters, body, offset):
            let (text, flow) = try capture { try execute(body) }
            var value = Value.string(text)
            for (name, args, kwargs) in filters {
                value = try applyFilter(name, value, try args.map(evaluate), try kwargs.map { ($0.0, try evaluate($0.1)) }, offset: offset)
            }
            try emit(value.str)
            return flow
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case let .generation(body):
            // Like transformers' AssistantTracker: record where the block's text lands in the top-level output.
            guard buffers.count == 1 else { return try execute(body) }
            let start = buffers[0].utf8.count
            let flow = try execute(body)
            generationRanges.append(start..<buffers[0].utf8.count)
            return flow
        }
        return .normal
    }

    private func runFor(target: Target, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], offset: Int) throws -> ControlFlow {
        let iterated = try evaluate(iterable)
        var items = try located(offset) { try iterate(iterated, offset: offset) }
        if let filter {
            // jinja2 applies the loop filter first, so loop.length and loop.last count only kept items.
            var kept: [Value] = []
            for item in items {
                frames.append([:])
                defer { frames.removeLast() }
                try assign(target, item, offset: offset)
                if try evaluate(filter).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try execute(otherwise) }
        let count = items.count
        for (i, item) in items.enumerated() {
            iterations += 1
            if iterations > limits.maxLoopIterations {
                throw ChatTemplateError.limitExceeded("more than maxLoopIterations \(limits.maxLoopIterations) loop iterations (line \(map.location(offset).line))")
            }
            var loop = Dict()
            loop["index"] = .int(i + 1)
            loop["index0"] = .int(i)
            loop["revindex"] = .int(count - i)
            loop["revindex0"] = .int(count - i - 1)
            loop["first"] = .bool(i == 0)
            loop["last"] = .bool(i == count - 1)
            loop["length"] = .int(count)
            loop["depth"] = .int(1)
            loop["depth0"] = .int(0)
            loop["previtem"] = i > 0 ? items[i - 1] : .undefined("there is no previous item")
            loop["nextitem"] = i + 1 < count ? items[i + 1] : .undefined("there is no next item")
            loop["cycle"] = .callable(Callable(name: "loop.cycle") { args in
                guard !args.positional.isEmpty else { throw ChatTemplateError.runtime("no items for cycling given") }
                return args.positional[i % args.positional.count]
            })
            frames.append(["loop": .object(loop)])
            defer { frames.removeLast() }
            try assign(target, item, offset: offset)
            let flow = try execute(body)
            if flow == .breakLoop { break }
        }
        return .normal
    }

    // MARK: - Macros

    private func makeMacro(_ definition: MacroDefinition, scope: [[String: Value]]? = nil) -> Callable {
        Callable(name: definition.name) { [unowned self] args in
            try self.callMacro(definition, args, scope: scope)
        }
    }

    private func callMacro(_ definition: MacroDefinition, _ args: Arguments, scope: [[String: Value]]?) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxRecursionDepth {
            throw ChatTemplateError.limitExceeded("macro '\(definition.name)' nested deeper than maxRecursionDepth \(limits.maxRecursionDepth)")
        }
        if args.positional.count > definition.parameters.count {
            throw ChatTemplateError.runtime("macro '\(definition.name)' takes not more than \(definition.parameters.count) argument(s)")
        }
        // A macro sees the globals and the template's top level, plus its own arguments.
        let saved = frames
        frames = scope ?? [saved[0]]
        defer { frames = saved }
        var local: [String: Value] = [:]
        frames.append(local)
        for (i, (name, defaultValue)) in definition.parameters.enumerated() {
            if i < args.positional.count {
                local[name] = args.positional[i]
            } else if let kw = args.keyword.first(where: { $0.0 == name }) {
                local[name] = kw.1
            } else if let defaultValue {
                local[name] = try evaluate(defaultValue)
            } else {
                local[name] = .undefined("parameter '\(name)' was not provided")
            }
            frames[frames.count - 1] = local
        }
        if let caller = args.keyword.first(where: { $0.0 == "caller" }) { local["caller"] = caller.1 }
        let known = Set(definition.parameters.map(\.0) + ["caller"])
        local["kwargs"] = .object(Dict(args.keyword.filter { !known.contains($0.0) }))
        local["varargs"] = .tuple(Array(args.positional.dropFirst(definition.parameters.count)))
        frames[frames.count - 1] = local
        let (text, _) = try capture { try execute(definition.body) }
        return .string(text)
    }

    func callValue(_ callee: Value, _ args: Arguments, offset: Int) throws -> Value {
        switch callee {
        case let .callable(c): return try located(offset) { try c.call(args) }
        case let .undefined(message): throw runtimeError(offset, message)
        default: throw runtimeError(offset, "'\(callee.typeName)' object is not callable")
        }
    }
}
