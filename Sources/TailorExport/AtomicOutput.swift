// All-or-nothing outputs: everything is written into a hidden sibling of the destination and renamed into place
// at the end, so a failed merge or export leaves nothing behind.
import Foundation

/// Writes a folder or file through a temporary sibling and a final rename.
public enum AtomicOutput {
    /// Checks that `url` can be created: its parent exists (or can be created) and is writable, and `url` itself
    /// does not exist yet (or is an empty folder). Throws `ExportError.unwritableOutput` otherwise.
    public static func checkWritable(_ url: URL, isFolder: Bool) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            if isFolder {
                guard isDirectory.boolValue else { throw ExportError.unwritableOutput(path: url.path, reason: "a file of that name exists") }
                let items = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
                guard items.isEmpty else {
                    throw ExportError.unwritableOutput(path: url.path, reason: "the folder exists and is not empty (hint: remove it or choose another --out)")
                }
            } else if isDirectory.boolValue {
                throw ExportError.unwritableOutput(path: url.path, reason: "a folder of that name exists")
            }
        }
        let parent = url.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw ExportError.unwritableOutput(path: url.path, reason: "cannot create the parent folder \(parent.path)")
        }
        guard fm.isWritableFile(atPath: parent.path) else {
            throw ExportError.unwritableOutput(path: url.path, reason: "the folder \(parent.path) is not writable")
        }
    }

    /// The hidden temporary sibling used for `url`.
    static func temporary(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    }

    /// Runs `body` on a fresh temporary folder, then moves it to `url`; on any error the temporary folder is removed.
    public static func writeFolder(_ url: URL, _ body: (URL) throws -> Void) throws {
        try checkWritable(url, isFolder: true)
        let fm = FileManager.default
        let temp = temporary(for: url)
        try? fm.removeItem(at: temp)
        do {
            try fm.createDirectory(at: temp, withIntermediateDirectories: false)
            try body(temp)
            if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }   // an empty folder (checked above)
            try fm.moveItem(at: temp, to: url)
        } catch {
            try? fm.removeItem(at: temp)
            if error is ExportError { throw error }
            throw ExportError.unwritableOutput(path: url.path, reason: "\(error)")
        }
    }

    /// Runs `body` to produce the bytes of a file written to a temporary sibling, then renames it to `url`.
    public static func writeFile(_ url: URL, _ body: (URL) throws -> Void) throws {
        try checkWritable(url, isFolder: false)
        let fm = FileManager.default
        let temp = temporary(for: url)
        try? fm.removeItem(at: temp)
        do {
            try body(temp)
            if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
            try fm.moveItem(at: temp, to: url)
        } catch {
            try? fm.removeItem(at: temp)
            if error is ExportError { throw error }
            throw ExportError.unwritableOutput(path: url.path, reason: "\(error)")
        }
    }
}
