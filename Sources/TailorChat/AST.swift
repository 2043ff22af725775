// Syntax tree of a parsed template. Offsets are UTF-8 byte offsets into the normalised source (for error lines).

indirect enum Expr {
    case literal(Value)
    case name(String, offset: Int)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String, offset: Int)
    case index(Expr, Expr, offset: Int)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?, offset: Int)
    case call(Expr, [Expr], [(String, Expr)], offset: Int)
    case filter(Expr, name: String, [Expr], [(String, Expr)], offset: Int)
    case test(Expr, name: String, [Expr], negated: Bool, offset: Int)
    case unary(String, Expr, offset: Int)
    case binary(String, Expr, Expr, offset: Int)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case not(Expr)
    /// Chained comparison `a < b <= c`: each op applies to neighbours.
    case compare(Expr, [(String, Expr)], offset: Int)
    case concat([Expr], offset: Int)
    case conditional(test: Expr, then: Expr, otherwise: Expr?)
}

/// Where a `set` or `for` stores its value.
enum Target {
    case name(String)
    case attribute(String, String)  // ns.attr
    case tuple([Target])
}

struct MacroDefinition {
    let name: String
    let parameters: [(String, Expr?)]
    let body: [Node]
}

indirect enum Node {
    case text(String)
    case output(Expr, offset: Int)
    case ifChain([(Expr, [Node])], otherwise: [Node])
    case forLoop(target: Target, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], offset: Int)
    case set(Target, Expr, offset: Int)
    case setBlock(Target, [Node], filters: [(String, [Expr], [(String, Expr)])], offset: Int)
    case macro(MacroDefinition)
    case callBlock(call: Expr, callerParameters: [(String, Expr?)], body: [Node], offset: Int)
    case filterBlock(filters: [(String, [Expr], [(String, Expr)])], body: [Node], offset: Int)
    case breakLoop(offset: Int)
    case continueLoop(offset: Int)
    /// transformers' `{% generation %}` block: rendered as its body.
    case generation([Node])
}
