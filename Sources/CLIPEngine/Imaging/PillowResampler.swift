/// An exact port of Pillow's `ImagingResample` (`src/libImaging/Resample.c`) with the BICUBIC
/// filter, for 8-bit RGB images: the same coefficients (double precision, antialiased by the
/// downscale factor, normalised by their sum), the same fixed-point conversion (22 fractional
/// bits, rounded away from zero), the same two passes, each rounding with ½ and clipping to
/// 0…255, and the same skipping of a pass whose size does not change. Results are bit-identical
/// to `Image.resize(size, BICUBIC)` of Pillow 13. The BILINEAR filter (support 1, the triangle)
/// goes through the same code, as in Pillow, for processors configured with `resample: 2`
/// (SigLIP 2's).
///
/// Pass order (it changes the numbers, through the uint8 rounding between passes): Pillow 13
/// runs the vertical pass first when the height shrinks by more than twice what the width
/// shrinks, `(inH − outH) > 0 && (inH − outH) > (inW − outW)·2`; otherwise horizontal first,
/// over only the input rows the vertical pass reads. (Pillow ≤ 11 always went horizontal first.)
///
/// Coefficients are computed once, at init, for one (input size, output size) pair. The value
/// is immutable and `Sendable`: one resampler can serve several threads at once.
public struct PillowResampler: Sendable {
    /// Pillow's filters that this port has (`Image.Resampling`'s values).
    public enum Filter: Int, Sendable {
        case bilinear = 2
        case bicubic = 3

        /// Pillow's `support` of the filter, before antialiasing widens it.
        var support: Double { self == .bicubic ? 2.0 : 1.0 }
    }

    public let filter: Filter
    public let inputWidth: Int
    public let inputHeight: Int
    public let outputWidth: Int
    public let outputHeight: Int

    /// 32 − 8 − 2: 8 bits for the result, two for overflow of filters with negative lobes.
    static let precisionBits = 22

    /// One pass's fixed-point coefficients: for output index i, `count[i]` weights starting at
    /// `weights[i * ksize]`, applied to input indices `first[i] ..< first[i] + count[i]`.
    struct Coefficients: Sendable {
        var ksize: Int
        var first: [Int]
        var count: [Int]
        var weights: [Int32]
    }

    let horizontal: Coefficients? // nil: the width does not change, no horizontal pass
    let vertical: Coefficients? // nil: the height does not change, no vertical pass
    /// Pillow 13's pass order.
    let horizontalFirst: Bool
    /// Input rows the vertical pass reads (Pillow's ybox_first ..< ybox_last), when horizontal first.
    let rowFirst: Int
    let rowLast: Int

    public init(inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int, filter: Filter = .bicubic) {
        self.filter = filter
        precondition(
            inputWidth > 0 && inputHeight > 0 && outputWidth > 0 && outputHeight > 0,
            "resampling needs non-empty sizes")
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        // Pillow: need_horizontal = xsize != imIn->xsize || box[0] || box[2] != xsize; with the
        // default box (0, 0, in_w, in_h) this is just "the size changes".
        let needHorizontal = outputWidth != inputWidth
        let needVertical = outputHeight != inputHeight
        let shrinkH = inputHeight - outputHeight, shrinkW = inputWidth - outputWidth
        horizontalFirst = !(shrinkH > 0 && shrinkH > shrinkW * 2)
        var vert = Self.coefficients(inSize: inputHeight, outSize: outputHeight, filter: filter)
        if needHorizontal && horizontalFirst {
            // The horizontal pass writes only rows rowFirst..<rowLast; shift the vertical bounds.
            rowFirst = vert.first[0]
            rowLast = vert.first[outputHeight - 1] + vert.count[outputHeight - 1]
            for i in 0..<outputHeight { vert.first[i] -= rowFirst }
        } else {
            rowFirst = 0
            rowLast = inputHeight
        }
        horizontal = needHorizontal ? Self.coefficients(inSize: inputWidth, outSize: outputWidth, filter: filter) : nil
        vertical = needVertical ? vert : nil
    }

    /// Pillow's `bicubic_filter` with a = −0.5 (same operation order, so the same doubles).
    @inline(__always)
    static func bicubic(_ xIn: Double) -> Double {
        let a = -0.5
        let x = xIn < 0.0 ? -xIn : xIn
        if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
        if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0.0
    }

    /// Pillow's `bilinear_filter`: the triangle 1 − |x| on (−1, 1).
    @inline(__always)
    static func bilinear(_ xIn: Double) -> Double {
        let x = xIn < 0.0 ? -xIn : xIn
        return x < 1.0 ? 1.0 - x : 0.0
    }

    /// Pillow's `precompute_coeffs` (box from 0 to inSize) followed by `normalize_coeffs_8bpc`.
    static func coefficients(inSize: Int, outSize: Int, filter: Filter = .bicubic) -> Coefficients {
        let support0 = filter.support
        // in0 = 0, in1 = inSize are C floats in Pillow; (double)(in1 - in0) is exact here.
        let scale = Double(Float(inSize) - Float(0)) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = support0 * filterscale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var first = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let one = Double(1 << precisionBits)
        for xx in 0..<outSize {
            let center = 0.0 + (Double(xx) + 0.5) * scale
            var ww = 0.0
            let ss = 1.0 / filterscale
            // C's (int) cast truncates toward zero.
            var xmin = Int((center - support + 0.5).rounded(.towardZero))
            if xmin < 0 { xmin = 0 }
            var xmax = Int((center + support + 0.5).rounded(.towardZero))
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            for x in 0..<ksize { k[x] = 0 }
            for x in 0..<max(xmax, 0) {
                let t = (Double(x + xmin) - center + 0.5) * ss
                let w = filter == .bicubic ? bicubic(t) : bilinear(t)
                k[x] = w
                ww += w
            }
            for x in 0..<max(xmax, 0) where ww != 0.0 {
                k[x] /= ww
            }
            first[xx] = xmin
            count[xx] = max(xmax, 0)
            for x in 0..<ksize {
                // normalize_coeffs_8bpc: (int)(±0.5 + k · 2^22), truncating toward zero.
                let v = k[x] < 0 ? (-0.5 + k[x] * one) : (0.5 + k[x] * one)
                weights[xx * ksize + x] = Int32(v.rounded(.towardZero))
            }
        }
        return Coefficients(ksize: ksize, first: first, count: count, weights: weights)
    }

    /// Pillow's clip8: the accumulator's integer part (arithmetic shift), clamped to 0…255.
    @inline(__always)
    static func clip8(_ acc: Int32) -> UInt8 {
        let v = acc >> Int32(precisionBits)
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(truncatingIfNeeded: v))
    }

    /// Resamples interleaved RGB `input` (inputWidth × inputHeight × 3 bytes) into `output`
    /// (outputWidth × outputHeight × 3 bytes). Allocates only the intermediate image of the
    /// horizontal pass, when both passes run.
    public func resample(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(input.count >= inputWidth * inputHeight * 3, "input buffer too small")
        precondition(output.count >= outputWidth * outputHeight * 3, "output buffer too small")
        switch (horizontal, vertical) {
        case (nil, nil):
            // Same size: Pillow's Image.resize returns a copy.
            _ = output.initialize(from: input.prefix(outputWidth * outputHeight * 3))
        case (let h?, nil):
            Self.horizontalPass(
                h, input: input, inputWidth: inputWidth, rowOffset: 0,
                rows: outputHeight, output: output, outputWidth: outputWidth)
        case (nil, let v?):
            Self.verticalPass(v, input: input, width: outputWidth, output: output, outputHeight: outputHeight)
        case (let h?, let v?) where horizontalFirst:
            let tempRows = rowLast - rowFirst
            let temp = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: outputWidth * tempRows * 3)
            defer { temp.deallocate() }
            Self.horizontalPass(
                h, input: input, inputWidth: inputWidth, rowOffset: rowFirst,
                rows: tempRows, output: temp, outputWidth: outputWidth)
            Self.verticalPass(
                v, input: UnsafeBufferPointer(temp), width: outputWidth, output: output,
                outputHeight: outputHeight)
        case (let h?, let v?):
            let temp = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: inputWidth * outputHeight * 3)
            defer { temp.deallocate() }
            Self.verticalPass(v, input: input, width: inputWidth, output: temp, outputHeight: outputHeight)
            Self.horizontalPass(
                h, input: UnsafeBufferPointer(temp), inputWidth: inputWidth, rowOffset: 0,
                rows: outputHeight, output: output, outputWidth: outputWidth)
        }
    }

    /// Resamples an image (its alpha, if any, is not carried over).
    public func resample(_ image: RGBImage) -> RGBImage {
        precondition(image.width == inputWidth && image.height == inputHeight, "image size differs from the resampler's")
        let pixels = [UInt8](unsafeUninitializedCapacity: outputWidth * outputHeight * 3) { buffer, initialized in
            image.pixels.withUnsafeBufferPointer { resample($0, into: buffer) }
            initialized = outputWidth * outputHeight * 3
        }
        return RGBImage(width: outputWidth, height: outputHeight, pixels: pixels)
    }

    /// ImagingResampleHorizontal_8bpc for 3 bands: output row yy reads input row yy + rowOffset.
    static func horizontalPass(
        _ c: Coefficients, input: UnsafeBufferPointer<UInt8>, inputWidth: Int, rowOffset: Int,
        rows: Int, output: UnsafeMutableBufferPointer<UInt8>, outputWidth: Int
    ) {
        let half = Int32(1 << (precisionBits - 1))
        c.weights.withUnsafeBufferPointer { kk in
            c.first.withUnsafeBufferPointer { first in
                c.count.withUnsafeBufferPointer { count in
                    for yy in 0..<rows {
                        let inRow = (yy + rowOffset) * inputWidth * 3
                        let outRow = yy * outputWidth * 3
                        for xx in 0..<outputWidth {
                            let xmin = first[xx], n = count[xx], kBase = xx * c.ksize
                            var s0 = half, s1 = half, s2 = half
                            var p = inRow + xmin * 3
                            for x in 0..<n {
                                let w = kk[kBase + x]
                                s0 = s0 &+ Int32(input[p]) &* w
                                s1 = s1 &+ Int32(input[p + 1]) &* w
                                s2 = s2 &+ Int32(input[p + 2]) &* w
                                p += 3
                            }
                            output[outRow + xx * 3] = clip8(s0)
                            output[outRow + xx * 3 + 1] = clip8(s1)
                            output[outRow + xx * 3 + 2] = clip8(s2)
                        }
                    }
                }
            }
        }
    }

    /// ImagingResampleVertical_8bpc for 3 bands.
    static func verticalPass(
        _ c: Coefficients, input: UnsafeBufferPointer<UInt8>, width: Int,
        output: UnsafeMutableBufferPointer<UInt8>, outputHeight: Int
    ) {
        let half = Int32(1 << (precisionBits - 1))
        let stride = width * 3
        c.weights.withUnsafeBufferPointer { kk in
            for yy in 0..<outputHeight {
                let ymin = c.first[yy], n = c.count[yy], kBase = yy * c.ksize
                let outRow = yy * stride
                for xx in 0..<width {
                    var s0 = half, s1 = half, s2 = half
                    var p = ymin * stride + xx * 3
                    for y in 0..<n {
                        let w = kk[kBase + y]
                        s0 = s0 &+ Int32(input[p]) &* w
                        s1 = s1 &+ Int32(input[p + 1]) &* w
                        s2 = s2 &+ Int32(input[p + 2]) &* w
                        p += stride
                    }
                    output[outRow + xx * 3] = clip8(s0)
                    output[outRow + xx * 3 + 1] = clip8(s1)
                    output[outRow + xx * 3 + 2] = clip8(s2)
                }
            }
        }
    }
}
