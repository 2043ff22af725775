// Removing HTML markup: tags of known HTML elements, comments, script/style bodies, and character entities.
import Foundation

/// Strips HTML from text while leaving look-alikes alone ("a < b", "<|im_end|>", "<T>" in code).
///
/// Only tags whose name is a known HTML element are removed, so `x<y and y>z` or template markers survive.
/// `<br>`, `<p>`, `<div>`, `<li>` and headings become a newline; other tags vanish. Entities (&amp; &lt; &#39;
/// &#x27; &nbsp; and common named ones) are decoded after tags are removed, so `&lt;b&gt;` stays visible text.
public enum HTMLStripper {
    static let elements: Set<String> = [
        "a", "abbr", "article", "aside", "audio", "b", "big", "blockquote", "body", "br", "button", "caption", "center",
        "cite", "code", "col", "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure",
        "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "i", "iframe",
        "img", "input", "ins", "kbd", "label", "li", "link", "main", "mark", "meta", "nav", "noscript", "ol", "option",
        "p", "pre", "q", "s", "samp", "script", "section", "select", "small", "source", "span", "strike", "strong",
        "style", "sub", "summary", "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "title", "tr",
        "tt", "u", "ul", "var", "video", "wbr",
    ]
    static let breaking: Set<String> = ["br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ul", "ol", "table"]
    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "mdash": "—", "ndash": "–",
        "hellip": "…", "copy": "©", "reg": "®", "trade": "™", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
        "laquo": "«", "raquo": "»", "eacute": "é", "euro": "€", "pound": "£", "deg": "°", "times": "×", "divide": "÷",
    ]

    /// `text` with HTML tags, comments and entities removed or decoded.
    public static func strip(_ text: String) -> String {
        guard text.contains("<") || text.contains("&") else { return text }
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var skipUntilClose: String? = nil  // inside <script> or <style>
        while i < chars.count {
            let c = chars[i]
            if c == "<" {
                if i + 3 < chars.count, chars[i + 1] == "!", chars[i + 2] == "-", chars[i + 3] == "-" {
                    // Comment: drop through "-->" (or to the end when unclosed).
                    var j = i + 4
                    while j + 2 < chars.count && !(chars[j] == "-" && chars[j + 1] == "-" && chars[j + 2] == ">") { j += 1 }
                    i = min(chars.count, j + 3)
                    continue
                }
                if let (name, closing, end) = tag(chars, at: i) {
                    if let open = skipUntilClose {
                        if closing && name == open { skipUntilClose = nil }
                    } else {
                        if !closing && (name == "script" || name == "style") { skipUntilClose = name }
                        if breaking.contains(name) && !out.isEmpty && out.last != "\n" { out.append("\n") }
                    }
                    i = end
                    continue
                }
            }
            if skipUntilClose == nil { out.append(c) }
            i += 1
        }
        // Block tags at the very start or end would leave newlines the text did not have.
        var result = Substring(decodeEntities(String(out)))
        if !text.hasSuffix("\n") { while result.last == "\n" { result.removeLast() } }
        if !text.hasPrefix("\n") { while result.first == "\n" { result.removeFirst() } }
        return String(result)
    }

    /// Recognises `<name ...>` or `</name>` at `i` for a known element; returns the name, whether it closes, and
    /// the index after `>`.
    static func tag(_ chars: [Unicode.Scalar], at i: Int) -> (String, Bool, Int)? {
        var j = i + 1
        let closing = j < chars.count && chars[j] == "/"
        if closing { j += 1 }
        var name = ""
        while j < chars.count, chars[j].isASCII && (chars[j].properties.isAlphabetic || ("0"..."9").contains(chars[j])) {
            name.unicodeScalars.append(chars[j])
            j += 1
        }
        name = name.lowercased()
        guard elements.contains(name), j < chars.count else { return nil }
        // The name must end at whitespace, "/" or ">".
        guard chars[j] == ">" || chars[j] == "/" || chars[j] == " " || chars[j] == "\n" || chars[j] == "\t" else { return nil }
        var quote: Unicode.Scalar? = nil
        while j < chars.count {
            let c = chars[j]
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == ">" { return (name, closing, j + 1) } else if c == "<" { return nil }
            j += 1
        }
        return nil
    }

    /// Decodes named, decimal and hexadecimal character references; unknown ones stay as written.
    public static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(10).firstIndex(of: ";") {
                let body = String(after[..<semi])
                var decoded: String? = named[body]
                if decoded == nil, body.hasPrefix("#") {
                    let digits = body.dropFirst()
                    let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
                    decoded = value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
                if let decoded {
                    out += decoded
                    rest = after[after.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        out += rest
        return out
    }
}
