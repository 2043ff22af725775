// Statement parser: turns lexer segments into a tree of `Node`s.

struct Parser {
    let segments: [Segment]
    let map: SourceMap
    var index = 0
    /// Whether the template has transformers' `{% generation %}` blocks.
    private(set) var sawGeneration = false
    /// How many `if` bodies enclose the current position (see `ExpressionParser.deferUnknownNames`).
    private var ifDepth = 0
    /// Open blocks; bounded so a hostile template cannot overflow the parser's or interpreter's stack.
    private var blockDepth = 0
    static let maxBlockDepth = 200

    init(segments: [Segment], map: SourceMap) {
        self.segments = segments
        self.map = map
    }

    /// Parses the whole template.
    mutating func parseTemplate() throws -> [Node] {
        let (nodes, end) = try parseBody(until: [])
        if let end { throw map.syntaxError(end.offset, "unexpected '\(end.name)'") }
        return nodes
    }

    /// A closing or intermediate tag that ended a body, with its tokens.
    struct EndTag {
        let name: String
        let tokens: [Token]
        let offset: Int
    }

    private static let blockEnds: Set<String> = [
        "elif", "else", "endif", "endfor", "endset", "endmacro", "endcall", "endfilter", "endgeneration",
    ]

    /// Parses nodes until one of `until` (or the end of the template when `until` is empty).
    private mutating func parseBody(until: Set<String>) throws -> ([Node], EndTag?) {
        blockDepth += 1
        defer { blockDepth -= 1 }
        if blockDepth > Parser.maxBlockDepth {
            throw map.syntaxError(segmentOffset(index - 1), "blocks nested deeper than \(Parser.maxBlockDepth) levels")
        }
        var nodes: [Node] = []
        while index < segments.count {
            let segment = segments[index]
            index += 1
            switch segment {
            case let .text(t):
                nodes.append(.text(t))
            case let .output(tokens, offset):
                var p = expressionParser(tokens, index: 0)
                if p.atEnd { throw map.syntaxError(offset, "expected an expression inside '{{ }}'") }
                let e = try p.parseTuple()
                try p.expectEnd()
                nodes.append(.output(e, offset: offset))
            case let .statement(tokens, offset):
                guard let keyword = tokens.first?.name else {
                    throw map.syntaxError(tokens.first?.offset ?? offset, "expected a statement name after '{%'")
                }
                if Parser.blockEnds.contains(keyword) {
                    if until.contains(keyword) { return (nodes, EndTag(name: keyword, tokens: tokens, offset: offset)) }
                    let expected = until.isEmpty ? "" : " (expected one of: \(until.sorted().joined(separator: ", ")))"
                    throw map.syntaxError(tokens[0].offset, "unexpected '\(keyword)'\(expected)")
                }
                nodes.append(try parseStatement(keyword, tokens: tokens, offset: offset))
            }
        }
        if !until.isEmpty {
            let wanted = until.filter { $0.hasPrefix("end") }.sorted().joined(separator: " or ")
            throw map.syntaxError(map.bytes.count, "unexpected end of template; expected '\(wanted)'")
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ keyword: String, tokens: [Token], offset: Int) throws -> Node {
        var p = expressionParser(tokens, index: 1)
        switch keyword {
        case "if":
            return try parseIf(&p)
        case "for":
            return try parseFor(&p, offset: offset)
        case "set":
            let target = try parseTarget(&p)
            if p.current.isOp("=") {
                _ = p.advance()
                let value = try p.parseTuple()
                try p.expectEnd()
                return .set(target, value, offset: offset)
            }
            let filters = try parseFilterChain(&p)
            try p.expectEnd()
            let (body, _) = try parseBody(until: ["endset"])
            return .setBlock(target, body, filters: filters, offset: offset)
        case "macro":
            let name = try p.expectName()
            let params = try parseParameters(&p)
            try p.expectEnd()
            let (body, _) = try parseBody(until: ["endmacro"])
            return .macro(MacroDefinition(name: name, parameters: params, body: body))
        case "call":
            var callerParams: [(String, Expr?)] = []
            if p.current.isOp("(") { callerParams = try parseParameters(&p) }
            let call = try p.parseExpression()
            guard case .call = call else { throw p.error("expected a macro call after 'call'") }
            try p.expectEnd()
            let (body, _) = try parseBody(until: ["endcall"])
            return .callBlock(call: call, callerParameters: callerParams, body: body, offset: offset)
        case "filter":
            let filters = try parseFilterChain(&p, leadingPipe: false)
            try p.expectEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            return .filterBlock(filters: filters, body: body, offset: offset)
        case "break":
            try p.expectEnd()
            return .breakLoop(offset: offset)
        case "continue":
            try p.expectEnd()
            return .continueLoop(offset: offset)
        case "generation":
            try p.expectEnd()
            sawGeneration = true
            let (body, _) = try parseBody(until: ["endgeneration"])
            return .generation(body)
        default:
            throw map.syntaxError(tokens[0].offset, "unknown or unsupported tag '\(keyword)'")
        }
    }

    private func segmentOffset(_ i: Int) -> Int {
        guard i >= 0, i < segments.count else { return 0 }
        switch segments[i] {
        case .text: return 0
        case let .output(_, offset), let .statement(_, offset): return offset
        }
    }

    private func expressionParser(_ tokens: [Token], index: Int) -> ExpressionParser {
        var p = ExpressionParser(tokens: tokens, map: map, index: index)
        p.deferUnknownNames = ifDepth > 0
        return p
    }

    private mutating func parseIf(_ p: inout ExpressionParser) throws -> Node {
        ifDepth += 1
        defer { ifDepth -= 1 }
        var branches: [(Expr, [Node])] = []
        var test = try p.parseTuple()
        try p.expectEnd()
        while true {
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((test, body))
            guard let end else { break }
            switch end.name {
            case "elif":
                var q = expressionParser(end.tokens, index: 1)
                test = try q.parseTuple()
                try q.expectEnd()
            case "else":
                try ExpressionParser(tokens: end.tokens, map: map, index: 1).expectEnd()
                let (otherwise, _) = try parseBody(until: ["endif"])
                return .ifChain(branches, otherwise: otherwise)
            default:
                return .ifChain(branches, otherwise: [])
            }
        }
        return .ifChain(branches, otherwise: [])
    }

    private mutating func parseFor(_ p: inout ExpressionParser, offset: Int) throws -> Node {
        let target = try parseTarget(&p)
        guard p.current.isName("in") else { throw p.error("expected 'in' in for loop, got \(p.describe(p.current))") }
        _ = p.advance()
        let iterable = try p.parseTuple(withConditional: false)
        var filter: Expr?
        if p.current.isName("if") {
            _ = p.advance()
            filter = try p.parseExpression()
        }
        if p.current.isName("recursive") { throw p.error("recursive for loops are not supported") }
        try p.expectEnd()
        let (body, end) = try parseBody(until: ["else", "endfor"])
        var otherwise: [Node] = []
        if end?.name == "else" { (otherwise, _) = try parseBody(until: ["endfor"]) }
        return .forLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, offset: offset)
    }

    /// `x`, `ns.attr`, `a, b` or `(a, b)`.
    private func parseTarget(_ p: inout ExpressionParser) throws -> Target {
        var items: [Target] = []
        repeat {
            if !items.isEmpty { _ = p.advance() }
            if p.current.isOp("(") {
                _ = p.advance()
                let inner = try parseTarget(&p)
                try p.expectOp(")")
                items.append(inner)
                continue
            }
            let name = try p.expectName()
            if p.current.isOp(".") {
                _ = p.advance()
                items.append(.attribute(name, try p.expectName()))
            } else {
                items.append(.name(name))
            }
        } while p.current.isOp(",")
        return items.count == 1 ? items[0] : .tuple(items)
    }

    /// `(a, b=default, ...)` for macros and call blocks.
    private func parseParameters(_ p: inout ExpressionParser) throws -> [(String, Expr?)] {
        try p.expectOp("(")
        var params: [(String, Expr?)] = []
        while !p.current.isOp(")") {
            if !params.isEmpty { try p.expectOp(","); if p.current.isOp(")") { break } }
            let name = try p.expectName()
            var value: Expr?
            if p.current.isOp("=") { _ = p.advance(); value = try p.parseExpression() }
            params.append((name, value))
        }
        _ = p.advance()
        return params
    }

    /// `| f(args) | g` after a block set, or `f | g` after `filter`.
    private func parseFilterChain(_ p: inout ExpressionParser, leadingPipe: Bool = true) throws
        -> [(String, [Expr], [(String, Expr)])]
    {
        var filters: [(String, [Expr], [(String, Expr)])] = []
        var first = !leadingPipe
        while first || p.current.isOp("|") {
            if !first { _ = p.advance() }
            first = false
            let nameToken = p.current
            let name = try p.expectName()
            guard p.deferUnknownNames || KnownNames.filters.contains(name) else {
                throw p.error("no filter named '\(name)'", at: nameToken)
            }
            var args: [Expr] = [], kwargs: [(String, Expr)] = []
            if p.current.isOp("(") { (args, kwargs) = try p.parseCallArguments() }
            filters.append((name, args, kwargs))
        }
        return filters
    }
}
