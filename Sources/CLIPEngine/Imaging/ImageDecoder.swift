import CClipImageCodecs
import Foundation

/// An 8-bit RGB image: `width × height` pixels, rows top to bottom, interleaved R G B.
///
/// `pixels` is what Pillow's `Image.open(...).convert("RGB")` gives (alpha dropped, never
/// composited). When the file carries transparency (an alpha channel or a PNG `tRNS` chunk),
/// `alpha` holds one byte per pixel (255 = opaque); otherwise it is `nil`.
public struct RGBImage: Sendable, Equatable {
    /// The mode Pillow opens the file in, where it changes how torchvision's `Resize` treats
    /// the image (it resizes in the image's own mode).
    public enum SourceMode: Sendable, Equatable {
        /// RGB or greyscale (with or without a `tRNS` colour key): resized as it is.
        case plain
        /// A palette PNG (Pillow's `P`): resized with nearest neighbour.
        case palette
        /// A PNG with an alpha channel (`RGBA`, `LA`): resized with premultiplied alpha.
        case alphaChannel
    }

    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public var alpha: [UInt8]?
    /// How Pillow would hold the file (see `SourceMode`).
    public var mode: SourceMode = .plain

    public init(width: Int, height: Int, pixels: [UInt8], alpha: [UInt8]? = nil, mode: SourceMode = .plain) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3, "RGB buffer size mismatch")
        precondition(alpha == nil || alpha!.count == width * height, "alpha buffer size mismatch")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.alpha = alpha
        self.mode = mode
    }

    /// This image composited over an opaque white background, as transformers' `convert_to_rgb`
    /// does for images with transparency (`Image.alpha_composite(white, image.convert("RGBA"))`),
    /// with Pillow's integer arithmetic (`AlphaComposite.c`, 7 extra bits, rounded division by
    /// 255). Returns `self` unchanged (alpha removed) when there is no alpha.
    public func compositedOnWhite() -> RGBImage {
        guard let alpha else { return self }
        var out = pixels
        let count = width * height
        out.withUnsafeMutableBufferPointer { rgb in
            alpha.withUnsafeBufferPointer { a in
                for i in 0..<count {
                    let sa = UInt32(a[i])
                    if sa == 0 {
                        rgb[3 * i] = 255; rgb[3 * i + 1] = 255; rgb[3 * i + 2] = 255
                        continue
                    }
                    // dst = (255, 255, 255, 255): blend = 255·(255 − sa), outa255 = 255·255,
                    // coef1 = sa·255·255·128 / outa255 = sa·128, coef2 = 255·128 − coef1.
                    let outa255 = sa * 255 + 255 * (255 - sa)
                    let coef1 = sa * 255 * 255 * 128 / outa255
                    let coef2 = 255 * 128 - coef1
                    for c in 0..<3 {
                        let tmp = UInt32(rgb[3 * i + c]) * coef1 + 255 * coef2 + (0x80 << 7)
                        rgb[3 * i + c] = UInt8(truncatingIfNeeded: (((tmp >> 8) + tmp) >> 8) >> 7)
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}

/// An error decoding an image: a code, the file, and a message. Its description is one line
/// naming the file, e.g. `photo.jpg: not a JPEG or PNG file (starts with 47 49 46 38)`.
public struct ImageError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        public static let unreadable = Code(name: "unreadable")
        public static let empty = Code(name: "empty")
        public static let unknownFormat = Code(name: "unknown format")
        public static let truncated = Code(name: "truncated")
        public static let corrupt = Code(name: "corrupt")
        public static let unsupported = Code(name: "unsupported")
        public static let tooLarge = Code(name: "too large")
        public static let outOfMemory = Code(name: "out of memory")
        public static let badConfig = Code(name: "bad preprocessor config")
    }

    public var code: Code
    /// The file path (or a label for in-memory data).
    public var file: String
    public var message: String

    public init(code: Code, file: String, message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    public var description: String {
        let name = (file as NSString).lastPathComponent
        let line = "\(name): \(message)"
        return line.contains(where: \.isNewline) ? String(line.map { $0.isNewline ? " " : $0 }) : line
    }
}

/// Decodes JPEG and PNG files (format detected from magic bytes, never from the name) into
/// `RGBImage`s, via libjpeg-turbo and libpng (see `clip_image_codecs.h` for the exact conversions).
/// Stateless and thread-safe.
///
/// The RGB bytes equal Pillow's `Image.open(path).convert("RGB")` except for 16-bit greyscale
/// PNGs: Pillow clips those (`I;16` → `L` saturates at 255, a white image); here every 16-bit
/// sample, grey included, keeps its high byte (v >> 8), as Pillow already does for 16-bit RGB.
/// No gamma, no colour profile and no EXIF orientation are applied (transformers applies none).
/// CMYK/YCCK JPEGs are refused; truncated files are errors, never grey-padded.
public enum ImageDecoder {
    /// Pillow's `Image.MAX_IMAGE_PIXELS` (its decompression-bomb threshold).
    public static let defaultMaxPixels = 89_478_485

    /// Reads and decodes the file at `url`.
    public static func decode(contentsOf url: URL, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        let data: Data
        do {
            data = try FileKind.mappedContents(of: url)
        } catch {
            let reason = error.kind.map { "is \($0), not an image file" } ?? error.reason
            throw ImageError(code: .unreadable, file: url.path, message: "cannot read: \(reason)")
        }
        return try decode(data: data, name: url.path, maxPixels: maxPixels)
    }

    /// Decodes in-memory file bytes; `name` labels errors.
    public static func decode(data: Data, name: String = "<data>", maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        try data.withUnsafeBytes { raw in
            try decode(bytes: raw, name: name, maxPixels: maxPixels)
        }
    }

    /// The (width, height) the file's header gives, without decoding, after the same pixel-limit
    /// check as `decode` (the same error); nil when the header cannot be read. For images whose
    /// embedding comes from a cache: they must meet the limits a decode would apply, or a
    /// report would depend on what the cache held.
    public static func size(of data: Data, name: String, maxPixels: Int = defaultMaxPixels) throws -> (width: Int, height: Int)? {
        var width: UInt64 = 0, height: UInt64 = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBytes { raw in
            message.withUnsafeMutableBufferPointer { buf in
                clip_image_size(
                    raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, UInt64(max(0, maxPixels)),
                    &width, &height, buf.baseAddress, buf.count)
            }
        }
        if status == CLIP_OK { return (Int(width), Int(height)) }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard !text.isEmpty else { return nil }
        throw ImageError(code: code(for: status), file: name, message: text)
    }

    /// Decodes in-memory file bytes; `name` labels errors.
    public static func decode(bytes raw: UnsafeRawBufferPointer, name: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        var image = clip_image()
        var message = [CChar](repeating: 0, count: 512)
        let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let status = message.withUnsafeMutableBufferPointer { buf in
            clip_decode_image(base, raw.count, UInt64(max(0, maxPixels)), &image, buf.baseAddress, buf.count)
        }
        guard status == CLIP_OK else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ImageError(code: code(for: status), file: name, message: text.isEmpty ? "cannot decode" : text)
        }
        defer { clip_image_free(&image) }
        let width = Int(image.width), height = Int(image.height)
        let pixels = Array(UnsafeBufferPointer(start: image.rgb, count: width * height * 3))
        let alpha = image.alpha.map { Array(UnsafeBufferPointer(start: $0, count: width * height)) }
        return RGBImage(
            width: width, height: height, pixels: pixels, alpha: alpha,
            mode: image.format == CLIP_FORMAT_PNG ? pngMode(raw) : .plain)
    }

    /// The mode Pillow gives a PNG, from the colour type in its IHDR chunk (byte 25; the decoder
    /// has already checked the header): 3 is a palette, 4 and 6 carry an alpha channel.
    static func pngMode(_ raw: UnsafeRawBufferPointer) -> RGBImage.SourceMode {
        guard raw.count > 25, raw[12] == 0x49, raw[13] == 0x48, raw[14] == 0x44, raw[15] == 0x52 else { return .plain }
        switch raw[25] {
        case 3: return .palette
        case 4, 6: return .alphaChannel
        default: return .plain
        }
    }

    static func code(for status: clip_status) -> ImageError.Code {
        switch status {
        case CLIP_ERR_EMPTY: return .empty
        case CLIP_ERR_UNKNOWN_FORMAT: return .unknownFormat
        case CLIP_ERR_TRUNCATED: return .truncated
        case CLIP_ERR_UNSUPPORTED: return .unsupported
        case CLIP_ERR_TOO_LARGE: return .tooLarge
        case CLIP_ERR_NO_MEMORY: return .outOfMemory
        default: return .corrupt
        }
    }
}
