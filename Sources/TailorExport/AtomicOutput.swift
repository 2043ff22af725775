// All-or-nothing outputs: everything is written (and checked) in a hidden sibling of the destination and renamed
// into place at the end, so a failed merge or export leaves nothing behind — and with overwrite (--force) the
// previous output stays untouched until the new one is complete.
import Foundation

/// Writes a folder or file through a temporary sibling and a final rename.
public enum AtomicOutput {
    /// Checks that `url` can be created: its parent exists (or can be created) and is writable, and `url` itself
    /// does not exist yet (or is an empty folder). With `overwrite` an existing output of the same kind (file or
    /// folder) is allowed: it is replaced at the end. Throws `ExportError.outputExists` (hint: --force) or
    /// `ExportError.unwritableOutput`.
    public static func checkWritable(_ url: URL, isFolder: Bool, overwrite: Bool = false) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            if isFolder {
                guard isDirectory.boolValue else { throw ExportError.unwritableOutput(path: url.path, reason: "a file of that name exists") }
                let items = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
                guard items.isEmpty || overwrite else { throw ExportError.outputExists(path: url.path, isFolder: true) }
            } else if isDirectory.boolValue {
                throw ExportError.unwritableOutput(path: url.path, reason: "a folder of that name exists")
            } else if !overwrite {
                throw ExportError.outputExists(path: url.path, isFolder: false)
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

    /// The hidden temporary sibling used for `url`: ".<name>.tmp-<pid>", keeping the extension so that readers that
    /// go by it (.gguf) can check the temporary file before it is renamed.
    static func temporary(for url: URL, role: String = "tmp") -> URL {
        let ext = url.pathExtension
        let name = ".\(url.lastPathComponent).\(role)-\(ProcessInfo.processInfo.processIdentifier)" + (ext.isEmpty ? "" : ".\(ext)")
        return url.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Runs `body` on a fresh temporary folder, then moves it to `url` (replacing an existing folder when
    /// `overwrite`); on any error the temporary folder is removed and `url` is left as it was.
    public static func writeFolder(_ url: URL, overwrite: Bool = false, _ body: (URL) throws -> Void) throws {
        try checkWritable(url, isFolder: true, overwrite: overwrite)
        let fm = FileManager.default
        let temp = temporary(for: url)
        try? fm.removeItem(at: temp)
        do {
            try fm.createDirectory(at: temp, withIntermediateDirectories: false)
            try body(temp)
            try commit(temp, to: url)
        } catch {
            try? fm.removeItem(at: temp)
            if error is ExportError { throw error }
            throw ExportError.unwritableOutput(path: url.path, reason: "\(error)")
        }
    }

    /// Runs `body` to write a file at a temporary sibling, then renames it to `url` (replacing an existing file when
    /// `overwrite`); on any error the temporary file is removed and `url` is left as it was.
    public static func writeFile(_ url: URL, overwrite: Bool = false, _ body: (URL) throws -> Void) throws {
        try checkWritable(url, isFolder: false, overwrite: overwrite)
        let fm = FileManager.default
        let temp = temporary(for: url)
        try? fm.removeItem(at: temp)
        do {
            try body(temp)
            try commit(temp, to: url)
        } catch {
            try? fm.removeItem(at: temp)
            if error is ExportError { throw error }
            throw ExportError.unwritableOutput(path: url.path, reason: "\(error)")
        }
    }

    /// Moves the finished `temp` to `url`. An existing `url` is first renamed aside and removed only once `temp` is
    /// in place; if the final rename fails it is renamed back. (Both renames stay within one folder: no copying.)
    static func commit(_ temp: URL, to url: URL) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: url.path) else {
            try fm.moveItem(at: temp, to: url)
            return
        }
        let aside = temporary(for: url, role: "old")
        try? fm.removeItem(at: aside)
        try fm.moveItem(at: url, to: aside)
        do {
            try fm.moveItem(at: temp, to: url)
        } catch {
            try? fm.moveItem(at: aside, to: url)
            throw error
        }
        try? fm.removeItem(at: aside)
    }
}
