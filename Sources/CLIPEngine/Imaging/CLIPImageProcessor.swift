import Foundation

/// CLIP's image preprocessing, reproducing transformers' slow `CLIPImageProcessor` on Pillow
/// (the PIL backend of transformers 5: `convert_to_rgb` → `resize` → `center_crop` → `rescale`
/// → `normalize`) value for value:
///
/// 1. Transparency: transformers 5 composites images with an alpha channel or a `tRNS`
///    transparency over white (`Image.alpha_composite`); that is the default here
///    (`.compositeOnWhite`). transformers 4 dropped alpha instead (`.drop`).
/// 2. Resize (Pillow BICUBIC, `PillowResampler`): shortest edge to `shortest_edge`, the other to
///    `int(shortest_edge · long / short)`; an image already at the target size is copied, as
///    Pillow's `Image.resize` does.
/// 3. Centre crop: top = (H − h) // 2, left = (W − w) // 2 (floor division); parts of the crop
///    outside a smaller image are zero, as transformers' padding makes them.
/// 4. Rescale in float64 then cast to float32 (`Float(Double(v) · factor)`), normalise in float32
///    with float32 mean and std (`(x − mean) / std`), channels first (CHW).
///
/// With `convention: .torchvision` it reproduces open_clip's and OpenAI `clip`'s transforms
/// instead (torchvision's `Resize`, `CenterCrop`, `ToTensor`, `Normalize` on a PIL image): the
/// resize runs in the image's own mode (nearest neighbour for palette PNGs, premultiplied alpha
/// for PNGs with an alpha channel, which `convert("RGB")` then drops), the crop offsets are
/// `int(round((L − S) / 2))` (half to even), and the rescale is float32 `x / 255`.
///
/// A value type holding only its configuration: `Sendable`, usable from several threads at once.
public struct CLIPImageProcessor: Sendable {
    public enum AlphaHandling: Sendable, Equatable {
        /// transformers ≥ 5: composite over opaque white with Pillow's arithmetic.
        case compositeOnWhite
        /// transformers 4 (`image.convert("RGB")`): drop the alpha channel.
        case drop
    }

    /// Whose arithmetic the crop and rescale follow.
    public enum Convention: String, Sendable, Equatable {
        /// transformers' `CLIPImageProcessor`: crop offsets (L − S) // 2, rescale in float64.
        case transformers
        /// torchvision's transforms on a PIL image (open_clip, OpenAI `clip`): crop offsets
        /// `int(round((L − S) / 2))` (round half to even), `ToTensor`'s float32 `x / 255`.
        case torchvision
    }

    public let config: PreprocessorConfig
    public let alphaHandling: AlphaHandling
    public let convention: Convention

    /// Validates `config` (only bicubic resampling, 3-channel mean/std).
    public init(
        config: PreprocessorConfig = PreprocessorConfig(), alphaHandling: AlphaHandling = .compositeOnWhite,
        convention: Convention = .transformers
    ) throws {
        try config.validate()
        self.config = config
        self.alphaHandling = alphaHandling
        self.convention = convention
    }

    /// transformers' `get_resize_output_image_size(..., default_to_square=False)` for the
    /// configured resize: (height, width) of the resized image.
    public func resizedSize(width: Int, height: Int) -> (height: Int, width: Int) {
        guard config.doResize else { return (height, width) }
        switch config.resize {
        case .exact(let h, let w):
            return (h, w)
        case .shortestEdge(let size):
            let (short, long) = width <= height ? (width, height) : (height, width)
            // Python: int(size * long / short) — true division in double, then truncation.
            let newLong = Int((Double(size * long) / Double(short)).rounded(.towardZero))
            return width <= height ? (newLong, size) : (size, newLong)
        }
    }

    /// Throws (`tooLarge`) when resizing an image of this size would make more pixels than the
    /// decoder's limit allows: `maxPixels` (`--max-pixels`), but never less than the default
    /// limit, since any resized image has at least 224×224 of them. The short side goes to
    /// `shortest_edge` before the crop, so a 1×60000 strip of a few hundred bytes would become
    /// 224×13,440,000 pixels (3 G): minutes of resampling and gigabytes, for an image that is no
    /// photo of a face. Only such extreme aspect ratios (beyond ~1:1780) meet this limit.
    private func checkResize(width: Int, height: Int, maxPixels: Int, file: String) throws {
        let limit = max(maxPixels, ImageDecoder.defaultMaxPixels)
        let (h, w) = resizedSize(width: width, height: height)
        let (pixels, overflow) = h.multipliedReportingOverflow(by: w)
        guard overflow || pixels > limit else { return }
        throw ImageError(
            code: .tooLarge, file: file,
            message: "image too large: \(width)x\(height) resizes to \(w)x\(h) before the crop, above the limit of \(limit) pixels")
    }

    /// Decodes image bytes under every limit preprocessing needs: the decoder's pixel limit
    /// (`maxPixels`) and the resized size (`checkResize`). `name` labels errors.
    public func decode(data: Data, name: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> RGBImage {
        try checkedResize(ImageDecoder.decode(data: data, name: name, maxPixels: maxPixels), maxPixels: maxPixels, file: name)
    }

    /// `decode(data:)` for the file at `url` (read errors name it).
    public func decode(contentsOf url: URL, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> RGBImage {
        try checkedResize(ImageDecoder.decode(contentsOf: url, maxPixels: maxPixels), maxPixels: maxPixels, file: url.path)
    }

    /// The limits of `decode(data:)` from the header alone, with the same errors, for an image
    /// that need not be decoded (its embedding is cached): a report must not depend on what a
    /// cache held. An unreadable header passes (decoding it once succeeded, or it would not be
    /// cached).
    public func checkLimits(data: Data, name: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws {
        guard let size = try ImageDecoder.size(of: data, name: name, maxPixels: maxPixels) else { return }
        try checkResize(width: size.width, height: size.height, maxPixels: maxPixels, file: name)
    }

    /// The resize limit of `decode(data:)` for an image `ImageDecoder` decoded without it, so
    /// that one decode can serve several preprocessings (several models of one audit).
    public func checkResizeLimit(_ image: RGBImage, name: String, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws {
        try checkResize(width: image.width, height: image.height, maxPixels: maxPixels, file: name)
    }

    private func checkedResize(_ image: RGBImage, maxPixels: Int, file: String) throws -> RGBImage {
        try checkResize(width: image.width, height: image.height, maxPixels: maxPixels, file: file)
        return image
    }

    /// (height, width) of the output for an input of this size.
    public func outputSize(width: Int, height: Int) -> (height: Int, width: Int) {
        if config.doCenterCrop { return (config.cropHeight, config.cropWidth) }
        return resizedSize(width: width, height: height)
    }

    /// The number of floats `preprocess` writes for an input of this size (3 · height · width).
    public func valueCount(width: Int, height: Int) -> Int {
        let (h, w) = outputSize(width: width, height: height)
        return 3 * h * w
    }

    /// Preprocesses `image` into `output` (CHW float32; at least `valueCount` floats), so that a
    /// batch can be filled in place.
    public func preprocess(_ image: RGBImage, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(image.width > 0 && image.height > 0, "empty image")
        let (outH, outW) = outputSize(width: image.width, height: image.height)
        precondition(output.count >= 3 * outH * outW, "output buffer holds \(output.count) floats, needs \(3 * outH * outW)")

        let source = (config.doConvertRGB && alphaHandling == .compositeOnWhite) ? image.compositedOnWhite() : image
        let (rh, rw) = resizedSize(width: image.width, height: image.height)
        let resized: [UInt8]
        if rh == image.height && rw == image.width {
            resized = source.pixels
        } else if convention == .torchvision && image.mode == .palette {
            resized = Self.nearest(source, width: rw, height: rh)
        } else if convention == .torchvision && image.mode == .alphaChannel, let alpha = image.alpha {
            resized = Self.premultipliedResize(
                source.pixels, alpha: alpha, width: image.width, height: image.height,
                outputWidth: rw, outputHeight: rh)
        } else {
            resized =
                PillowResampler(
                    inputWidth: image.width, inputHeight: image.height,
                    outputWidth: rw, outputHeight: rh, filter: PillowResampler.Filter(rawValue: config.resample) ?? .bicubic
                ).resample(source).pixels
        }

        // Centre crop (or the whole resized image): output (y, x) reads resized (y + top, x + left).
        let top = config.doCenterCrop ? cropOffset(rh, outH) : 0
        let left = config.doCenterCrop ? cropOffset(rw, outW) : 0

        // Per channel and byte value, the final float: a 256-entry table computed with exactly
        // numpy's operations and dtypes, so the per-pixel work is a lookup.
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            let mean = Float(config.imageMean[c]), std = Float(config.imageStd[c])
            for v in 0..<256 {
                var x: Float
                switch convention {
                case .transformers: x = config.doRescale ? Float(Double(v) * config.rescaleFactor) : Float(v)
                // ToTensor: `img.to(float32).div(255)`, one correctly rounded float32 division.
                case .torchvision: x = Float(v) / 255
                }
                if config.doNormalize { x = (x - mean) / std }
                table[c * 256 + v] = x
            }
        }

        let plane = outH * outW
        resized.withUnsafeBufferPointer { src in
            table.withUnsafeBufferPointer { lut in
                for y in 0..<outH {
                    let sy = y + top
                    let rowInside = sy >= 0 && sy < rh
                    for x in 0..<outW {
                        let sx = x + left
                        let o = y * outW + x
                        if rowInside && sx >= 0 && sx < rw {
                            let p = (sy * rw + sx) * 3
                            output[o] = lut[Int(src[p])]
                            output[plane + o] = lut[256 + Int(src[p + 1])]
                            output[2 * plane + o] = lut[512 + Int(src[p + 2])]
                        } else {
                            // transformers pads with zeros before rescaling and normalising.
                            output[o] = lut[0]
                            output[plane + o] = lut[256]
                            output[2 * plane + o] = lut[512]
                        }
                    }
                }
            }
        }
    }

    /// Preprocesses `image` into a new CHW float32 array.
    public func preprocess(_ image: RGBImage) -> [Float] {
        let count = valueCount(width: image.width, height: image.height)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            preprocess(image, into: buffer)
            initialized = count
        }
    }

    /// Decodes the file at `url` and preprocesses it.
    public func preprocess(contentsOf url: URL, maxPixels: Int = ImageDecoder.defaultMaxPixels) throws -> [Float] {
        preprocess(try decode(contentsOf: url, maxPixels: maxPixels))
    }

    /// Pillow's nearest-neighbour resize (`ImagingScaleAffine`, used for palette images): output
    /// column x reads input column `int(a/2 + x·a)` with a = in / out, accumulated in double
    /// precision step by step as Pillow does (clamped to the image).
    static func nearest(_ image: RGBImage, width: Int, height: Int) -> [UInt8] {
        func table(_ input: Int, _ output: Int) -> [Int] {
            let a = Double(input) / Double(output)
            var position = a * 0.5
            var out: [Int] = []
            out.reserveCapacity(output)
            for _ in 0..<output {
                out.append(min(max(Int(position), 0), input - 1))
                position += a
            }
            return out
        }
        let xs = table(image.width, width), ys = table(image.height, height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for (y, sy) in ys.enumerated() {
                for (x, sx) in xs.enumerated() {
                    let o = (y * width + x) * 3, i = (sy * image.width + sx) * 3
                    out[o] = src[i]; out[o + 1] = src[i + 1]; out[o + 2] = src[i + 2]
                }
            }
        }
        return out
    }

    /// Pillow's resize of an image with an alpha channel (`RGBA` → `RGBa` → resize → `RGBA`):
    /// colours premultiplied by alpha (`MULDIV255`), every channel resampled alike, then divided
    /// back (`255·c / a`, clipped; kept as they are where a is 0 or 255). Returns the RGB bytes
    /// (torchvision's `convert("RGB")` then drops alpha).
    static func premultipliedResize(
        _ pixels: [UInt8], alpha: [UInt8], width: Int, height: Int,
        outputWidth: Int, outputHeight: Int
    ) -> [UInt8] {
        let count = width * height
        var premultiplied = pixels
        var alphaRGB = [UInt8](repeating: 0, count: count * 3)
        for i in 0..<count {
            let a = UInt32(alpha[i])
            for c in 0..<3 {
                let t = UInt32(pixels[3 * i + c]) * a + 128
                premultiplied[3 * i + c] = UInt8(((t >> 8) + t) >> 8)
                alphaRGB[3 * i + c] = alpha[i]
            }
        }
        let resampler = PillowResampler(inputWidth: width, inputHeight: height, outputWidth: outputWidth, outputHeight: outputHeight)
        var colours = resampler.resample(RGBImage(width: width, height: height, pixels: premultiplied)).pixels
        let alphas = resampler.resample(RGBImage(width: width, height: height, pixels: alphaRGB)).pixels
        for i in 0..<(outputWidth * outputHeight) {
            let a = Int(alphas[3 * i])
            guard a != 0 && a != 255 else { continue }
            for c in 0..<3 { colours[3 * i + c] = UInt8(min(255, 255 * Int(colours[3 * i + c]) / a)) }
        }
        return colours
    }

    /// The crop's first row or column in a side of `length` for a crop of `size`.
    func cropOffset(_ length: Int, _ size: Int) -> Int {
        switch convention {
        case .transformers:
            return Self.floorDiv(length - size, 2)
        case .torchvision:
            // int(round((length - size) / 2.0)): halves go to the even neighbour.
            return Int((Double(length - size) / 2).rounded(.toNearestOrEven))
        }
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
