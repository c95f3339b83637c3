import CLIPEngine
import Foundation

/// How `validate` reads the images of the usable rows.
public enum ImageCheckDepth: Sendable {
    /// The header only: format, size, the pixel limit (what `run` checks for a cached image).
    case headers
    /// A full decode (what `run` does for an image it encodes): also finds truncated bodies.
    case decode
}

extension AuditValidator {
    /// Reads the image of every usable row of `report` as `run` would, and records the ones
    /// `run` would skip in `report.undecodableImages`, with `run`'s reason.
    ///
    /// Without this, `validate` passed manifests whose images `run` then skipped (a truncated
    /// file, a text file named `.jpg`). Runs `threads` readers at once; the images are decoded
    /// one at a time per reader and dropped, so memory stays at `threads` images.
    public static func checkImages(
        _ report: inout ValidationReport, depth: ImageCheckDepth,
        threads: Int, maxPixels: Int = ImageDecoder.defaultMaxPixels
    ) {
        let rows = report.usableRows
        let count = rows.count
        guard count > 0 else { return }
        var problems = [ImageEmbedder.Outcome?](repeating: nil, count: count)
        let workers = max(1, min(threads, count))
        problems.withUnsafeMutableBufferPointer { buffer in
            let shared = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for index in stride(from: worker, to: count, by: workers) {
                    shared.value[index] = problem(with: rows.imageURL(index), depth: depth, maxPixels: maxPixels)
                }
            }
        }
        report.undecodableImages = problems.enumerated().compactMap { index, problem in
            guard case .failed(let kind, let reason)? = problem else { return nil }
            return SkippedEntry(line: rows.line(index), file: rows.file(index), reason: reason, kind: kind)
        }
        report.imageCheck = depth
    }

    /// Why `run` would skip the image at `url` (its kind and words, as `run`'s failed
    /// outcome), or nil when it would not.
    static func problem(with url: URL, depth: ImageCheckDepth, maxPixels: Int) -> ImageEmbedder.Outcome? {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            return .failed(kind: .unreadable, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        guard !data.isEmpty else { return .failed(kind: .emptyFile, reason: "empty file (0 bytes)") }
        do {
            switch depth {
            case .headers:
                // A header that cannot be read is an image the decoder would refuse.
                if try ImageDecoder.size(of: data, name: url.path, maxPixels: maxPixels) == nil {
                    _ = try ImageDecoder.decode(data: data, name: url.path, maxPixels: maxPixels)
                }
            case .decode:
                _ = try ImageDecoder.decode(data: data, name: url.path, maxPixels: maxPixels)
            }
            return nil
        } catch {
            return ImageEmbedder.failure(error, data: data, file: url)
        }
    }
}
