// Foundation's file errors ("Error Domain=NSCocoaErrorDomain Code=4 … UserInfo={…}") rewritten as one line that
// names the path and the system's reason ("no such file or directory", "no space left on device").
import Foundation

enum FileErrorText {
    /// The error's message for the terminal: a Foundation file error becomes "path: reason"; a message that embeds
    /// one (a wrapped error) has the embedded part replaced the same way.
    static func message(for error: Error, default fallback: String) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain || nsError.domain == NSPOSIXErrorDomain, let reason = reason(nsError) {
            let path = nsError.userInfo[NSFilePathErrorKey] as? String ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
            return "Error: " + (path.map { "\($0): " } ?? "") + reason
        }
        return rewriteEmbedded(fallback)
    }

    /// The POSIX reason under a Cocoa error (lower-cased, as `strerror` spells it), else the Cocoa description.
    private static func reason(_ error: NSError) -> String? {
        if let underlying = (error.userInfo[NSUnderlyingErrorKey] as? Error).map({ $0 as NSError }), underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))).lowercased() }
        return error.localizedDescription
    }

    /// Replaces a printed NSError inside `message` by its POSIX reason and path.
    private static func rewriteEmbedded(_ message: String) -> String {
        guard let start = message.range(of: "Error Domain=") else { return message }
        let tail = String(message[start.lowerBound...])
        func capture(_ pattern: String) -> String? {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let match = regex.firstMatch(in: tail, range: NSRange(tail.startIndex..., in: tail)),
                  let range = Range(match.range(at: 1), in: tail) else { return nil }
            return String(tail[range])
        }
        let reason = capture(#"NSPOSIXErrorDomain Code=(\d+)"#).flatMap(Int32.init).map { String(cString: strerror($0)).lowercased() }
            ?? capture(#"Code=\d+ "([^"]*)""#) ?? "file error"
        let path = capture(#"NSFilePath=([^,}]+)"#)
        return String(message[..<start.lowerBound]) + reason + (path.map { " (\($0))" } ?? "")
    }
}
