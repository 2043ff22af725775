// Expression parser: jinja2's precedence (condexpr > or > and > not > compare > +,- > ~ > *,/,//,% > ** > unary,
// then postfix, filters and tests bind tightest).

struct ExpressionParser {
    let tokens: [Token]
    let map: SourceMap
    var index = 0
    /// jinja2 reports an unknown filter or test inside an `if` body only when it runs; elsewhere at compile time.
    var deferUnknownNames = false
    private var depth = 0
    /// Nesting bound so a hostile template cannot overflow the parser's stack.
    static let maxDepth = 200

    init(tokens: [Token], map: SourceMap, index: Int = 0) {
        self.tokens = tokens
        self.map = map
        self.index = index
    }

    var current: Token { tokens[min(index, tokens.count - 1)] }
    var atEnd: Bool { current.kind == .end }

    mutating func advance() -> Token {
        let t = current
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    func error(_ message: String, at token: Token? = nil) -> ChatTemplateError {
        map.syntaxError((token ?? current).offset, message)
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case let .name(n): return "'\(n)'"
        case let .string(s): return "string '\(s.prefix(20))'"
        case let .int(i): return "integer \(i)"
        case let .float(d): return "float \(d)"
        case let .op(o): return "'\(o)'"
        case .end: return "end of tag"
        }
    }

    mutating func expectOp(_ op: String) throws {
        guard current.isOp(op) else { throw error("expected '\(op)', got \(describe(current))") }
        _ = advance()
    }

    mutating func expectName() throws -> String {
        guard let n = current.name else { throw error("expected a name, got \(describe(current))") }
        _ = advance()
        return n
    }

    func expectEnd() throws {
        guard atEnd else { throw error("unexpected \(describe(current)); expected end of tag") }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > ExpressionParser.maxDepth { throw error("expression nested deeper than \(ExpressionParser.maxDepth) levels") }
    }

    /// Left-associative chains (`a + b + c`, `x | f | g`, `a.b.c`) deepen the tree too; each link counts as a level
    /// until the enclosing parse function returns (`depth -= links`).
    private mutating func link(_ links: inout Int) throws {
        links += 1
        try enter()
    }

    // MARK: - Precedence levels

    /// `a if cond else b`, or a tuple without parentheses when `allowTuple` (for `{{ a, b }}`).
    mutating func parseExpression(withConditional: Bool = true) throws -> Expr {
        try enter()
        defer { depth -= 1 }
        var expr = try parseOr()
        guard withConditional else { return expr }
        var links = 0
        defer { depth -= links }
        while current.isName("if") {
            try link(&links)
            _ = advance()
            let test = try parseOr()
            var otherwise: Expr?
            if current.isName("else") {
                _ = advance()
                otherwise = try parseExpression()
            }
            expr = .conditional(test: test, then: expr, otherwise: otherwise)
        }
        return expr
    }

    /// Comma-separated expressions; a single one without a trailing comma is returned as is.
    mutating func parseTuple(withConditional: Bool = true) throws -> Expr {
        var items = [try parseExpression(withConditional: withConditional)]
        var sawComma = false
        while current.isOp(",") {
            sawComma = true
            _ = advance()
            if atEnd || current.isName("in") || current.isOp(")") { break }
            items.append(try parseExpression(withConditional: withConditional))
        }
        return sawComma ? .tuple(items) : items[0]
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        var links = 0
        defer { depth -= links }
        while current.isName("or") { try link(&links); _ = advance(); left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        var links = 0
        defer { depth -= links }
        while current.isName("and") { try link(&links); _ = advance(); left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if current.isName("not") {
            _ = advance()
            try enter()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let start = current.offset
        let left = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case let .op(o) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                _ = advance()
                ops.append((o, try parseMath1()))
            } else if current.isName("in") {
                _ = advance()
                ops.append(("in", try parseMath1()))
            } else if current.isName("not"), index + 1 < tokens.count, tokens[index + 1].isName("in") {
                _ = advance(); _ = advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? left : .compare(left, ops, offset: start)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        var links = 0
        defer { depth -= links }
        while case let .op(o) = current.kind, o == "+" || o == "-" {
            try link(&links)
            let t = advance()
            left = .binary(o, left, try parseConcat(), offset: t.offset)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        let start = current.offset
        var items = [try parseMath2()]
        while current.isOp("~") {
            _ = advance()
            items.append(try parseMath2())
            if items.count > 10_000 { throw error("more than 10000 operands in one '~' chain") }
        }
        return items.count == 1 ? items[0] : .concat(items, offset: start)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        var links = 0
        defer { depth -= links }
        while case let .op(o) = current.kind, ["*", "/", "//", "%"].contains(o) {
            try link(&links)
            let t = advance()
            left = .binary(o, left, try parsePow(), offset: t.offset)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        var links = 0
        defer { depth -= links }
        while current.isOp("**") {
            try link(&links)
            let t = advance()
            left = .binary("**", left, try parseUnary(), offset: t.offset)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enter()
        defer { depth -= 1 }
        var node: Expr
        if case let .op(o) = current.kind, o == "-" || o == "+" {
            let t = advance()
            node = .unary(o, try parseUnary(withFilter: false), offset: t.offset)
        } else {
            node = try parsePostfix(try parsePrimary())
        }
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case let .name(n):
            _ = advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n, offset: t.offset)
            }
        case let .string(s):
            _ = advance()
            var text = s
            // Adjacent string literals concatenate, as in Python.
            while case let .string(more) = current.kind { text += more; _ = advance() }
            return .literal(.string(text))
        case let .int(i):
            _ = advance()
            return .literal(.int(i))
        case let .float(d):
            _ = advance()
            return .literal(.double(d))
        case .op("("):
            _ = advance()
            if current.isOp(")") { _ = advance(); return .tuple([]) }
            let inner = try parseTuple()
            try expectOp(")")
            return inner
        case .op("["):
            _ = advance()
            var items: [Expr] = []
            while !current.isOp("]") {
                if !items.isEmpty { try expectOp(","); if current.isOp("]") { break } }
                items.append(try parseExpression())
            }
            _ = advance()
            return .list(items)
        case .op("{"):
            _ = advance()
            var pairs: [(Expr, Expr)] = []
            while !current.isOp("}") {
                if !pairs.isEmpty { try expectOp(","); if current.isOp("}") { break } }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            _ = advance()
            return .dict(pairs)
        default:
            throw error("unexpected \(describe(t))")
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var node = base
        var links = 0
        defer { depth -= links }
        while true {
            let t = current
            if t.isOp(".") || t.isOp("[") || t.isOp("(") { try link(&links) }
            if t.isOp(".") {
                _ = advance()
                switch current.kind {
                case let .name(n): _ = advance(); node = .attribute(node, n, offset: t.offset)
                case let .int(i): _ = advance(); node = .index(node, .literal(.int(i)), offset: t.offset)
                default: throw error("expected an attribute name after '.'")
                }
            } else if t.isOp("[") {
                _ = advance()
                node = try parseSubscript(node, offset: t.offset)
            } else if t.isOp("(") {
                let (args, kwargs) = try parseCallArguments()
                node = .call(node, args, kwargs, offset: t.offset)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ base: Expr, offset: Int) throws -> Expr {
        var parts: [Expr?] = []
        var current: Expr?
        var isSlice = false
        while !self.current.isOp("]") {
            if self.current.isOp(":") {
                isSlice = true
                parts.append(current)
                current = nil
                _ = advance()
            } else {
                current = try parseExpression()
            }
        }
        _ = advance()
        if !isSlice {
            guard let key = current else { throw error("empty subscript", at: tokens[index]) }
            return .index(base, key, offset: offset)
        }
        parts.append(current)
        guard parts.count <= 3 else { throw error("too many ':' in slice") }
        while parts.count < 3 { parts.append(nil) }
        return .slice(base, start: parts[0], stop: parts[1], step: parts[2], offset: offset)
    }

    /// `( a, b, key=value )`
    mutating func parseCallArguments() throws -> ([Expr], [(String, Expr)]) {
        try expectOp("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !current.isOp(")") {
            if !args.isEmpty || !kwargs.isEmpty { try expectOp(","); if current.isOp(")") { break } }
            if let n = current.name, index + 1 < tokens.count, tokens[index + 1].isOp("=") {
                _ = advance(); _ = advance()
                kwargs.append((n, try parseExpression()))
            } else {
                if !kwargs.isEmpty { throw error("positional argument after keyword argument") }
                args.append(try parseExpression())
            }
        }
        _ = advance()
        return (args, kwargs)
    }

    private mutating func parseFilterExpr(_ base: Expr) throws -> Expr {
        var node = base
        var links = 0
        defer { depth -= links }
        while true {
            if current.isOp("|") || current.isName("is") || current.isOp("(") { try link(&links) }
            if current.isOp("|") {
                let t = advance()
                var name = try expectName()
                while current.isOp("."), index + 1 < tokens.count, let more = tokens[index + 1].name {
                    _ = advance(); _ = advance()
                    name += "." + more
                }
                guard deferUnknownNames || KnownNames.filters.contains(name) else { throw error("no filter named '\(name)'", at: t) }
                var args: [Expr] = [], kwargs: [(String, Expr)] = []
                if current.isOp("(") { (args, kwargs) = try parseCallArguments() }
                node = .filter(node, name: name, args, kwargs, offset: t.offset)
            } else if current.isName("is") {
                let t = advance()
                var negated = false
                if current.isName("not") { _ = advance(); negated = true }
                let nameToken = current
                let name = try expectName()
                guard deferUnknownNames || KnownNames.tests.contains(name) else {
                    throw error("no test named '\(name)'", at: nameToken)
                }
                var args: [Expr] = []
                if current.isOp("(") {
                    args = try parseCallArguments().0
                } else if startsPrimary(current), !current.isName("else"), !current.isName("or"), !current.isName("and") {
                    if current.isName("is") { throw error("you cannot chain multiple tests with 'is'") }
                    args = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name: name, args, negated: negated, offset: t.offset)
            } else if current.isOp("(") {
                let t = current
                let (args, kwargs) = try parseCallArguments()
                node = .call(node, args, kwargs, offset: t.offset)
            } else {
                return node
            }
        }
    }

    private func startsPrimary(_ t: Token) -> Bool {
        switch t.kind {
        case .name, .string, .int, .float: return true
        case let .op(o): return o == "(" || o == "[" || o == "{"
        case .end: return false
        }
    }
}
