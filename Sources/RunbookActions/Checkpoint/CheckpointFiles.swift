// Checkpoints on a filesystem: listing them, reading the metadata beside each, and the `active`
// symlink the trainer resumes from. The format is documented in docs/checkpoints.md.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RunbookKit

/// What the trainer wrote beside one checkpoint (`X.json` beside `X.pt`).
public struct CheckpointMetadata: Sendable, Equatable {
    /// Training step the checkpoint was taken at.
    public var step: Int
    /// When it was written.
    public var createdAt: Date
    /// `created_at` exactly as the file has it (RFC 3339).
    public var createdAtText: String
    /// KL divergence from the reference policy; nil when the file does not say.
    public var kl: Double?
    /// Mean episode reward; nil when the file does not say.
    public var rewardMean: Double?
    /// Standard deviation of the episode reward; nil when the file does not say.
    public var rewardStd: Double?

    /// Metadata as read.
    public init(step: Int, createdAt: Date, createdAtText: String, kl: Double? = nil, rewardMean: Double? = nil,
                rewardStd: Double? = nil) {
        self.step = step
        self.createdAt = createdAt
        self.createdAtText = createdAtText
        self.kl = kl
        self.rewardMean = rewardMean
        self.rewardStd = rewardStd
    }
}

/// A checkpoint file and its metadata.
public struct Checkpoint: Sendable, Equatable {
    /// Absolute path of the checkpoint file.
    public var path: String
    /// Its metadata.
    public var metadata: CheckpointMetadata
}

/// Why a checkpoint's metadata cannot be used; the message names the file.
struct CheckpointMetadataError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reading checkpoints and their metadata, and re-pointing the resume link.
enum CheckpointFiles {
    /// `/dir/X.json` for `/dir/X.pt` (the last extension replaced; appended when there is none).
    static func metadataPath(for checkpoint: String) -> String {
        let url = URL(fileURLWithPath: checkpoint)
        guard !url.pathExtension.isEmpty else { return checkpoint + ".json" }
        return url.deletingPathExtension().appendingPathExtension("json").path
    }

    /// Reads and checks the metadata beside `checkpoint`.
    static func readMetadata(for checkpoint: String) throws -> CheckpointMetadata {
        let file = metadataPath(for: checkpoint)
        guard let data = FileManager.default.contents(atPath: file) else {
            let why = FileManager.default.fileExists(atPath: file) ? "cannot read it" : "it does not exist"
            throw CheckpointMetadataError("metadata \(file): \(why)")
        }
        guard case .map(let fields)? = Value.parseJSON(data: data) else {
            throw CheckpointMetadataError("metadata \(file): not a JSON object")
        }
        let step: Int
        switch fields["step"] {
        case .int(let i)? where i >= 0: step = i
        case .double(let d)? where d >= 0 && d == d.rounded() && d < 1e15: step = Int(d)
        case nil, .null?: throw CheckpointMetadataError("metadata \(file): 'step' is missing")
        case let other?: throw CheckpointMetadataError("metadata \(file): 'step' must be a non-negative integer, got \(other.jsonText())")
        }
        guard case .string(let createdText)? = fields["created_at"] else {
            if fields["created_at"] == nil || fields["created_at"] == .null {
                throw CheckpointMetadataError("metadata \(file): 'created_at' is missing")
            }
            throw CheckpointMetadataError("metadata \(file): 'created_at' must be an RFC 3339 time string")
        }
        guard let created = parseRFC3339(createdText) else {
            throw CheckpointMetadataError("metadata \(file): 'created_at' is not an RFC 3339 time: '\(createdText)'")
        }
        func number(_ key: String) throws -> Double? {
            switch fields[key] {
            case nil, .null?: return nil
            case .int(let i)?: return Double(i)
            case .double(let d)? where d.isFinite: return d
            case let other?: throw CheckpointMetadataError("metadata \(file): '\(key)' must be a number, got \(other.jsonText())")
            }
        }
        return CheckpointMetadata(step: step, createdAt: created, createdAtText: createdText, kl: try number("kl"),
                                  rewardMean: try number("reward_mean"), rewardStd: try number("reward_std"))
    }

    /// `2025-01-01T10:00:00Z`, with optional fractional seconds and a `Z` or `±hh:mm` offset.
    static func parseRFC3339(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// The entries of `dir` whose name matches the glob `pattern` and that can be checkpoints: regular
    /// files and directories, not symlinks (the `active` link itself) and not `.json` metadata. Sorted by name.
    static func candidates(in dir: String, pattern: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) else {
            throw ActionFailure("checkpoint directory \(dir) does not exist")
        }
        guard isDirectory.boolValue else { throw ActionFailure("\(dir) is not a directory") }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw ActionFailure("cannot list checkpoint directory \(dir): \(error.localizedDescription)")
        }
        return names.filter { name in
            guard !name.hasSuffix(".json"), fnmatch(pattern, name, 0) == 0 else { return false }
            var st = stat()
            guard lstat(join(dir, name), &st) == 0 else { return false }
            let kind = st.st_mode & S_IFMT
            return kind == S_IFREG || kind == S_IFDIR
        }.sorted().map { join(dir, $0) }
    }

    /// `dir/name` without doubling the slash.
    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// An absolute, standardized path (relative paths are taken from the current directory).
    static func absolute(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : join(FileManager.default.currentDirectoryPath, path)
        return URL(fileURLWithPath: base).standardizedFileURL.path
    }

    /// The directory part of an absolute path.
    static func directory(of path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
    }

    /// What the symlink at `link` points to, as an absolute path; nil when `link` does not exist.
    /// Throws when it exists but is not a symlink.
    static func linkDestination(_ link: String) throws -> String? {
        var st = stat()
        guard lstat(link, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw ActionFailure("cannot read \(link): \(systemErrorText())")
        }
        guard st.st_mode & S_IFMT == S_IFLNK else {
            throw ActionFailure("\(link) exists but is not a symlink")
        }
        let destination: String
        do { destination = try FileManager.default.destinationOfSymbolicLink(atPath: link) } catch {
            throw ActionFailure("cannot read the symlink \(link): \(error.localizedDescription)")
        }
        let full = destination.hasPrefix("/") ? destination : join(directory(of: link), destination)
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    /// Points `link` at `destination` (a name in the link's own directory) atomically: a new symlink
    /// under a temporary name, then rename(2) over the old link, then fsync of the directory.
    static func repoint(_ link: String, to destination: String) throws {
        let dir = directory(of: link)
        let name = URL(fileURLWithPath: link).lastPathComponent
        let temporary = join(dir, ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard symlink(destination, temporary) == 0 else {
            throw ActionFailure("cannot create a symlink in \(dir): \(systemErrorText())")
        }
        guard rename(temporary, link) == 0 else {
            let why = systemErrorText()
            unlink(temporary)
            throw ActionFailure("cannot replace \(link): \(why)")
        }
        // The rename is durable only once the directory is on disk; a failed fsync leaves it atomic anyway.
        let fd = open(dir, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Seconds as people say them: `45s`, `31m`, `2h5m`, `3d4h`.
    static func humanDuration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m"
        case ..<86400:
            let minutes = (s % 3600) / 60
            return "\(s / 3600)h" + (minutes > 0 ? "\(minutes)m" : "")
        default:
            let hours = (s % 86400) / 3600
            return "\(s / 86400)d" + (hours > 0 ? "\(hours)h" : "")
        }
    }
}
