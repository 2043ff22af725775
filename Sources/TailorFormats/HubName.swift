// The Hugging Face Hub name of a checkpoint (what an adapter records as base_model_name_or_path so PEFT can find
// the base): from a Hub cache folder, config.json's `_name_or_path` or the GGUF's general.* names.
import Foundation
import TailorText

public enum HubName {
    /// "ORG/NAME" when `url` lies inside a Hugging Face cache snapshot (`…/models--ORG--NAME/snapshots/HASH/…`).
    public static func fromCachePath(_ url: URL) -> String? {
        let parts = url.standardizedFileURL.pathComponents
        guard let snapshots = parts.lastIndex(of: "snapshots"), snapshots > 0, snapshots + 1 < parts.count else { return nil }
        let folder = parts[snapshots - 1]
        guard folder.hasPrefix("models--") else { return nil }
        // The cache writes "/" as "--"; repository names cannot contain "--" at the organisation boundary.
        let name = folder.dropFirst("models--".count).replacingOccurrences(of: "--", with: "/")
        return isRepositoryID(name) ? name : nil
    }

    /// Whether `name` is a Hub repository id: "NAME" or "ORG/NAME", each part of letters, digits, `-`, `_`, `.`,
    /// at most 96 characters, not starting or ending with `.` or `-` (so never a local path).
    public static func isRepositoryID(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard (1...96).contains(part.count), let first = part.first, let last = part.last,
                  first != ".", first != "-", last != ".", last != "-", !part.contains("..") else { return false }
            return part.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.".unicodeScalars.contains($0) }
        }
    }

    /// "ORG/NAME" from a Hub URL (`https://huggingface.co/ORG/NAME`, optionally with more path after it).
    static func fromURL(_ text: String) -> String? {
        for prefix in ["https://huggingface.co/", "http://huggingface.co/", "https://hf.co/"] where text.hasPrefix(prefix) {
            let parts = text.dropFirst(prefix.count).split(separator: "/").prefix(2)
            let name = parts.joined(separator: "/")
            if parts.count == 2, isRepositoryID(name) { return name }
        }
        return nil
    }
}

extension ModelCheckpoint {
    /// The checkpoint's Hub repository id when it is known: the cache folder it sits in, config.json's
    /// `_name_or_path` (when that is a repository id, not a local path), or the GGUF's
    /// `general.source.huggingface.repository`, `general.source.repo_url`, or a `general.name` that is an ORG/NAME
    /// id. Nil when none does.
    public var hubName: String? {
        if let cached = HubName.fromCachePath(sourceURL) { return cached }
        if let gguf {
            let m = gguf.metadata
            if let repo = m["general.source.huggingface.repository"]?.stringValue, HubName.isRepositoryID(repo), repo.contains("/") { return repo }
            if let url = m["general.source.repo_url"]?.stringValue, let repo = HubName.fromURL(url) { return repo }
            // general.organization + general.basename ("HuggingFaceTB/smollm2") or a name rebuilt from
            // basename/size_label/finetune often names no repository (conversions of dev checkpoints), so only a
            // general.name that is itself an ORG/NAME id counts.
            if let name = m["general.name"]?.stringValue, name.contains("/"), HubName.isRepositoryID(name) { return name }
            return nil
        }
        let folder = sourceURL.hasDirectoryPath ? sourceURL : sourceURL.deletingLastPathComponent()
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("config.json").path),
              let json = try? data.withUnsafeBytes({ try JSONValue.parse($0) }),
              case let .string(name)? = json["_name_or_path"], name.contains("/"), HubName.isRepositoryID(name) else { return nil }
        return name
    }

    /// The name an adapter of this base records: `override` (`--base-model-name`) when given, else `hubName`,
    /// else a bare name that is not a path of this machine (the GGUF's `general.name` or the file or folder name),
    /// with `resolvable` false so the caller can say PEFT will not find it.
    public func baseModelName(override: String? = nil) -> (name: String, resolvable: Bool) {
        if let override, !override.isEmpty { return (override, true) }
        if let hub = hubName { return (hub, true) }
        if let name = gguf?.metadata["general.name"]?.stringValue, !name.isEmpty, !name.contains("/") { return (name, false) }
        // sourceURL is the .gguf file, or the folder's model.safetensors / index file.
        let local = gguf != nil ? sourceURL.deletingPathExtension() : sourceURL.deletingLastPathComponent()
        return (local.lastPathComponent, false)
    }
}
