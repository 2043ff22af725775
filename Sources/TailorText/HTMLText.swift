// The one HTML escaper: markupsafe's `escape`, which Jinja's `escape`/`e` filters and autoescaping use, and which
// is also safe inside HTML elements and quoted attribute values of Tailor's reports.

/// Escaping text for HTML.
public enum HTMLText {
    /// `&`, `<`, `>`, `"` and `'` as `&amp;`, `&lt;`, `&gt;`, `&#34;` and `&#39;` (markupsafe's spelling).
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
