import CLIPEngine
import Foundation

/// The kind of cause a row was left out of an audit for: what `validate` and `run` (report.md,
/// run.json's `skipped_by_reason`, the terminal) count skipped rows by. Every row skipped for
/// the same cause has the same kind, whatever its details (line numbers, paths, the codec's
/// words), which stay in the row's own reason.
///
/// The display text (``description``) is what the reports show; it is the only text form, so
/// the reports never recover a kind by cutting a reason apart.
public enum SkipKind: Sendable, Hashable, CustomStringConvertible {
    // Manifest rows (`SkipReason`), decided before any image is read.
    /// The record has a different number of fields than the header.
    case wrongFieldCount
    /// An attribute, target or file column is empty in the row.
    case emptyValue(column: String)
    /// The image path leaves `image_root` (absolute, `..`, or a symlink resolving outside).
    case outsideImageRoot
    /// The image file does not exist.
    case imageNotFound
    /// The image path names a directory, a FIFO, a device or a socket.
    case notAFile
    /// An earlier row names the same image with the same labels.
    case duplicateRow
    /// An earlier row names the same image with other labels.
    case duplicateWithOtherLabels

    // Image files that cannot be used (`ImageEmbedder` in `run`, `AuditValidator.checkImages` in `validate`).
    /// The file cannot be read.
    case unreadable
    /// The file has zero bytes.
    case emptyFile
    /// The file is neither a JPEG nor a PNG.
    case notAnImage
    /// The file ends before its image does.
    case truncated
    /// libjpeg rejected the data of a file with a JPEG signature.
    case corruptJPEG
    /// libpng rejected the data of a file with a PNG signature.
    case corruptPNG
    /// A valid image the decoder does not handle (a CMYK JPEG…).
    case unsupported
    /// More pixels than the limit (`--max-pixels`, or its resized size), or a zero width or height.
    case tooLarge
    /// Not enough memory to decode the image.
    case outOfMemory
    /// The embedder did not reach the file (a bug, never expected).
    case notProcessed

    /// The text the reports show for the kind.
    public var description: String {
        switch self {
        case .wrongFieldCount: return "wrong number of fields"
        case .emptyValue(let column): return "empty \(column)"
        case .outsideImageRoot: return "path outside image_root"
        case .imageNotFound: return "image not found"
        case .notAFile: return "not an image file"
        case .duplicateRow: return "duplicate row"
        case .duplicateWithOtherLabels: return "duplicate image with other labels"
        case .unreadable: return "cannot read"
        case .emptyFile: return "empty file"
        case .notAnImage: return "not a JPEG or PNG file"
        case .truncated: return "truncated"
        case .corruptJPEG: return "corrupt JPEG data"
        case .corruptPNG: return "corrupt PNG data"
        case .unsupported: return "unsupported image"
        case .tooLarge: return "image too large"
        case .outOfMemory: return "out of memory"
        case .notProcessed: return "internal error"
        }
    }

    /// The kind of an error from decoding (or checking the limits of) `data`: from the
    /// decoder's error code, and for corrupt data from the file's signature (JPEG starts with
    /// FF D8, PNG with 89 50). An error that is no `ImageError` came from reading the file.
    public init(imageError error: any Error, data: Data) {
        guard let error = error as? ImageError else { self = .unreadable; return }
        switch error.code {
        case .unreadable: self = .unreadable
        case .empty: self = .emptyFile
        case .unknownFormat: self = .notAnImage
        case .truncated: self = .truncated
        case .corrupt: self = data.first == 0xFF ? .corruptJPEG : .corruptPNG
        case .tooLarge: self = .tooLarge
        case .outOfMemory: self = .outOfMemory
        default: self = .unsupported
        }
    }

    /// Skipped rows counted by kind, for every summary of `run` and `validate`: the most
    /// frequent kind first, kinds as frequent in the order of their text (so the order does not
    /// depend on which row came first, and `validate` and `run` list the same manifest alike).
    ///
    /// Kinds are counted by their text: an empty column named `file` and a zero-byte image
    /// both read `empty file`, and a summary must not list one text twice (nor run.json hold a
    /// key twice). The count keeps the first such kind.
    public static func counts(_ kinds: some Sequence<SkipKind>) -> [SkipCount] {
        var counts: [String: SkipCount] = [:]
        for kind in kinds {
            counts[kind.description, default: SkipCount(kind: kind, count: 0)].count += 1
        }
        return counts.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.kind.description < $1.kind.description }
    }
}

/// How many rows were skipped for one kind of cause.
public struct SkipCount: Sendable, Hashable {
    /// The kind, e.g. `.imageNotFound`.
    public let kind: SkipKind
    /// Rows skipped for it.
    public internal(set) var count: Int

    public init(kind: SkipKind, count: Int) {
        self.kind = kind
        self.count = count
    }
}

extension Sequence where Element == SkipCount {
    /// `image not found: 3, truncated: 1`, as the terminal shows the counts.
    public var terminalText: String {
        map { "\($0.kind): \($0.count)" }.joined(separator: ", ")
    }
}
