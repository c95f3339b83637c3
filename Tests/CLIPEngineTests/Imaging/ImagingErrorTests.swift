import Foundation
import Testing

@testable import CLIPEngine

/// Bad input never crashes or prints: it gives an ImageError whose one-line description names
/// the file.
@Suite struct ImagingErrorTests {
    static let referenceImages = [
        "real_astronaut.png", "real_chelsea.png", "real_coffee.png", "real_rocket.jpg", "gradient_rgb.jpg",
        "gradient_progressive.jpg", "gradient_gray.jpg", "gradient_rgba.png", "gradient_palette.png",
        "tiny_upscale.png", "extreme_aspect.png", "exact_224.png", "gradient_gray16.png"
    ]

    /// Decodes `bytes` written to a temporary file called `name`; returns the error.
    func decodeError(_ name: String, _ bytes: [UInt8], maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> ImageError {
        let url = try ImagingFixtures.temporaryFile(named: name, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            let image = try ImageDecoder.decode(contentsOf: url, maxPixels: maxPixels)
            Issue.record("\(name): decoded (\(image.width)x\(image.height)) but should have failed")
            return ImageError(code: .corrupt, file: name, message: "no error")
        } catch let error as ImageError {
            let line = error.description
            print("error \(line)")
            #expect(line.hasPrefix("\(name): "), "\(line)")
            #expect(!line.contains("\n"))
            #expect(error.file == url.path)
            return error
        }
    }

    func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: ImagingFixtures.referenceImage(name)))
    }

    @Test(arguments: referenceImages)
    func truncatedHalfIsAnError(_ name: String) throws {
        let bytes = try fixture(name)
        let error = try decodeError("half-" + name, Array(bytes.prefix(bytes.count / 2)))
        #expect(error.code == .truncated, "\(error)")
        #expect(error.message.hasPrefix("truncated ("))
    }

    @Test func truncatedInsideSignatures() throws {
        #expect(try decodeError("cut.png", [0x89, 0x50, 0x4E]).code == .truncated)
        #expect(try decodeError("cut.jpg", [0xFF, 0xD8]).code == .truncated)
        let png = try fixture("tiny_upscale.png")
        #expect(try decodeError("header-only.png", Array(png.prefix(20))).code == .truncated)
        let jpg = try fixture("gradient_rgb.jpg")
        #expect(try decodeError("header-only.jpg", Array(jpg.prefix(200))).code == .truncated)
    }

    @Test func emptyFile() throws {
        let error = try decodeError("empty.jpg", [])
        #expect(error.code == .empty)
        #expect(error.description == "empty.jpg: empty file (0 bytes)")
    }

    @Test func gifMagicIsNotAJpeg() throws {
        let gif: [UInt8] = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0, 0x3B]
        let error = try decodeError("photo.jpg", gif)
        #expect(error.code == .unknownFormat)
        #expect(error.description.hasPrefix("photo.jpg: not a JPEG or PNG file (starts with 47 49 46 38)"), "\(error)")
    }

    @Test func otherFormatsAndText() throws {
        let webp: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)
        #expect(try decodeError("a.webp", webp).code == .unknownFormat)
        #expect(try decodeError("b.bmp", Array("BM".utf8) + [UInt8](repeating: 0, count: 60)).code == .unknownFormat)
        #expect(try decodeError("c.png", Array("hello, world\n".utf8)).code == .unknownFormat)
    }

    @Test func corruptJPEG() throws {
        // A valid SOI, then a DQT segment whose length runs past bogus content.
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x05, 0x7F, 0xFF, 0xFF]
        bytes += [UInt8](repeating: 0x11, count: 200)
        let error = try decodeError("corrupt.jpg", bytes)
        #expect(error.code == .corrupt || error.code == .truncated, "\(error)")
        // A real JPEG whose frame header claims 0 components.
        var jpg = try fixture("gradient_rgb.jpg")
        let sof = try #require((0..<(jpg.count - 1)).first { jpg[$0] == 0xFF && (jpg[$0 + 1] == 0xC0 || jpg[$0 + 1] == 0xC2) })
        jpg[sof + 9] = 0
        let error2 = try decodeError("no-components.jpg", jpg)
        #expect(error2.code == .corrupt, "\(error2)")
        #expect(error2.message.contains("libjpeg"))
    }

    @Test func corruptPNG() throws {
        var png = try fixture("tiny_upscale.png")
        // Flip a byte inside the first IDAT's data: its CRC no longer matches.
        let idat = try #require((0..<(png.count - 4)).first { png[$0..<($0 + 4)].elementsEqual("IDAT".utf8) })
        png[idat + 8] ^= 0x55
        let error = try decodeError("corrupt.png", png)
        #expect(error.code == .corrupt, "\(error)")
        #expect(error.message.contains("libpng"))
        var badHeader = try fixture("tiny_upscale.png")
        badHeader[12] = UInt8(ascii: "X") // first chunk is no longer IHDR
        #expect(try decodeError("bad-ihdr.png", badHeader).code == .corrupt)
    }

    /// A PNG header claiming 100000×100000 is refused from the header, before any allocation.
    @Test func hugeHeaderRefusedFast() throws {
        let start = Date()
        let error = try decodeError("huge.png", Self.pngHeader(width: 100_000, height: 100_000))
        #expect(error.code == .tooLarge)
        #expect(error.message.contains("10000000000 pixels"), "\(error)")
        #expect(Date().timeIntervalSince(start) < 1.0)
        // Zero width.
        #expect(try decodeError("zero.png", Self.pngHeader(width: 0, height: 10)).code == .tooLarge)
        // The limit is a parameter (JPEG: checked after reading the header).
        let jpg = try fixture("gradient_rgb.jpg")
        let small = try decodeError("limited.jpg", jpg, maxPixels: 1000)
        #expect(small.code == .tooLarge)
        #expect(small.message.contains("above the limit of 1000 pixels"))
        let png = try fixture("tiny_upscale.png")
        #expect(try decodeError("limited.png", png, maxPixels: 20 * 13 - 1).code == .tooLarge)
        #expect(try ImageDecoder.decode(data: Data(png), maxPixels: 20 * 13).width == 20)
    }

    @Test func cmykJPEGIsRefused() throws {
        let bytes = [UInt8](try Data(contentsOf: ImagingFixtures.codecCases.appendingPathComponent("cmyk.jpg")))
        let error = try decodeError("cmyk.jpg", bytes)
        #expect(error.code == .unsupported)
        #expect(error.message.contains("CMYK"), "\(error)")
    }

    @Test func missingFile() throws {
        do {
            _ = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/nonexistent/dir/nothing.png"))
            Issue.record("decoded a missing file")
        } catch let error as ImageError {
            #expect(error.code == .unreadable)
            #expect(error.description.hasPrefix("nothing.png: cannot read"))
        }
    }

    /// A valid strip of a few hundred KB that resizing would blow up: 1×60000 pixels become
    /// 224×13,440,000 before the crop. It took minutes and gigabytes; now it is refused at once,
    /// while a narrow but ordinary strip still goes through.
    @Test(.timeLimit(.minutes(1))) func extremeAspectRatioRefusedBeforeResizing() throws {
        let processor = try CLIPImageProcessor(config: PreprocessorConfig())
        let strip = try ImagingFixtures.temporaryFile(named: "strip.png", bytes: Self.pngImage(width: 1, height: 60_000))
        let start = Date()
        do {
            _ = try processor.preprocess(contentsOf: strip)
            Issue.record("a 1x60000 strip was resized")
        } catch let error as ImageError {
            #expect(error.code == .tooLarge)
            #expect(
                error.message
                    == "image too large: 1x60000 resizes to 224x13440000 before the crop, above the limit of \(ImageDecoder.defaultMaxPixels) pixels"
            )
        }
        #expect(Date().timeIntervalSince(start) < 5)
        let narrow = try ImagingFixtures.temporaryFile(named: "narrow.png", bytes: Self.pngImage(width: 2, height: 300))
        #expect(try processor.preprocess(contentsOf: narrow).count == 3 * 224 * 224)
    }

    /// Signature + IHDR chunk (valid CRC) + IEND, no image data.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        pngChunks(width: width, height: height, idat: nil)
    }

    /// A whole RGB PNG of mid-grey, its data in stored (uncompressed) deflate blocks.
    static func pngImage(width: UInt32, height: UInt32) -> [UInt8] {
        var raw: [UInt8] = []
        for _ in 0..<height { raw += [0] + [UInt8](repeating: 128, count: 3 * Int(width)) }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        zlib += be(b << 16 | a)
        return pngChunks(width: width, height: height, idat: zlib)
    }

    private static func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    private static func pngChunks(width: UInt32, height: UInt32, idat: [UInt8]?) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be(UInt32(data.count)) + body + be(crc32(body))
        }
        let ihdr = be(width) + be(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + (idat.map { chunk("IDAT", $0) } ?? [])
            + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
