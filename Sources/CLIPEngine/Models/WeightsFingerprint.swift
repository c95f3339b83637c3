import CClipCrypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error computing a fingerprint: the file and what went wrong, in one line.
public struct FingerprintError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

/// SHA-256 fingerprints of weights files and image bytes, computed with OpenSSL's EVP API.
///
/// Files are streamed in 4 MiB chunks, so a 600 MB checkpoint never sits in memory.
public enum SHA256Digest {
    /// The chunk size used when streaming files.
    static let chunkSize = 4 << 20

    /// An incremental SHA-256: feed bytes with `update`, then `finalize` once.
    /// Used by the downloader to hash a body while it is written to disk.
    final class Hasher {
        private var ctx: OpaquePointer?

        init() {
            ctx = EVP_MD_CTX_new()
            guard let ctx, EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto: EVP_DigestInit_ex(sha256) failed")
            }
        }

        deinit { EVP_MD_CTX_free(ctx) }

        func update(_ buffer: UnsafeRawBufferPointer) {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            _ = EVP_DigestUpdate(ctx, base, buffer.count)
        }

        func update(_ data: Data) {
            data.withUnsafeBytes { update($0) }
        }

        /// The lowercase hex digest. Call once.
        func finalize() -> String {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            _ = EVP_DigestFinal_ex(ctx, &digest, &length)
            return SHA256Digest.hexString(digest.prefix(Int(length)))
        }
    }

    /// The SHA-256 of a file's bytes, lowercase hex.
    public static func hex(ofFile url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FingerprintError(file: url.path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let hasher = Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw FingerprintError(file: url.path, message: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hasher.finalize()
    }

    /// The SHA-256 of bytes in memory (an encoded image, say), lowercase hex.
    public static func hex(of buffer: UnsafeRawBufferPointer) -> String {
        let hasher = Hasher()
        hasher.update(buffer)
        return hasher.finalize()
    }

    /// The SHA-256 of `data`, lowercase hex.
    public static func hex(of data: Data) -> String {
        data.withUnsafeBytes { hex(of: $0) }
    }

    static func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `s` looks like a SHA-256 in hex (64 hex digits), as LFS etags are.
    static func isSHA256Hex(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }
}
