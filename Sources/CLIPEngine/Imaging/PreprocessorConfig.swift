import Foundation

/// The image preprocessing settings of a checkpoint (`preprocessor_config.json`), with CLIP's
/// defaults for anything absent.
public struct PreprocessorConfig: Sendable, Equatable {
    /// How the image is resized before cropping.
    public enum ResizeTarget: Sendable, Equatable {
        /// Shortest edge to this length, the other edge `int(length · long / short)`.
        case shortestEdge(Int)
        /// Exactly this size (transformers' `size: {height, width}`).
        case exact(height: Int, width: Int)
    }

    public var doResize: Bool
    public var resize: ResizeTarget
    public var doCenterCrop: Bool
    public var cropHeight: Int
    public var cropWidth: Int
    public var doRescale: Bool
    public var rescaleFactor: Double
    public var doNormalize: Bool
    /// Per-channel mean and std as written in the file (doubles); applied as float32, as numpy does.
    public var imageMean: [Double]
    public var imageStd: [Double]
    public var doConvertRGB: Bool
    /// Pillow's resampling filter id: 3 (BICUBIC) or 2 (BILINEAR).
    public var resample: Int

    public static let openAIMean: [Double] = [0.48145466, 0.4578275, 0.40821073]
    public static let openAIStd: [Double] = [0.26862954, 0.26130258, 0.27577711]
    /// Python's `1 / 255`.
    public static let defaultRescaleFactor: Double = 1.0 / 255.0

    /// CLIP's defaults (`CLIPImageProcessor`) for a model whose vision tower takes `imageSize`
    /// pixels: shortest edge and centre crop `imageSize`, rescale 1/255, OpenAI mean/std, bicubic.
    public init(imageSize: Int = 224) {
        doResize = true
        resize = .shortestEdge(imageSize)
        doCenterCrop = true
        cropHeight = imageSize
        cropWidth = imageSize
        doRescale = true
        rescaleFactor = Self.defaultRescaleFactor
        doNormalize = true
        imageMean = Self.openAIMean
        imageStd = Self.openAIStd
        doConvertRGB = true
        resample = 3
    }

    /// Reads `preprocessor_config.json` in `directory` when present, else CLIP's defaults for
    /// `imageSize` (which then comes from the model config).
    public static func load(directory: URL, imageSize: Int) throws -> PreprocessorConfig {
        let url = directory.appendingPathComponent("preprocessor_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return PreprocessorConfig(imageSize: imageSize) }
        return try PreprocessorConfig(contentsOf: url, imageSize: imageSize)
    }

    /// Parses a `preprocessor_config.json` file; keys it lacks keep CLIP's defaults for `imageSize`.
    public init(contentsOf url: URL, imageSize: Int = 224) throws {
        let data: Data
        do { data = try FileKind.contents(of: url, limit: FileKind.checkpointTextLimit) } catch {
            throw ImageError(code: .badConfig, file: url.path, message: "cannot read preprocessor config: \(error.reason)")
        }
        try self.init(json: data, file: url.path, imageSize: imageSize)
    }

    /// Parses the JSON text of a preprocessor config; `file` names it in errors.
    public init(json: Data, file: String = "preprocessor_config.json", imageSize: Int = 224) throws {
        func fail(_ message: String) -> ImageError { ImageError(code: .badConfig, file: file, message: message) }
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        // JSONSerialization keeps one value of a key written twice; which one was meant is unknown.
        if let path = JSONDuplicateKeys.first(in: json) {
            throw fail("\"\(path.joined(separator: "."))\" appears twice")
        }
        self.init(imageSize: imageSize)

        // Numbers are judged by their double value: NSNumber's intValue of 1e300 is not the
        // number written.
        func bool(_ key: String) throws -> Bool? {
            guard let v = object[key], !(v is NSNull) else { return nil }
            guard let n = v as? NSNumber, Self.isBoolean(n) || Self.exactDouble(n) == 0 || Self.exactDouble(n) == 1 else {
                throw fail("\"\(key)\" must be true or false")
            }
            return Self.isBoolean(n) ? n.boolValue : Self.exactDouble(n) == 1
        }
        func positiveInt(_ v: Any, _ what: String) throws -> Int {
            guard let n = v as? NSNumber, !Self.isBoolean(n), Self.exactDouble(n) == Self.exactDouble(n).rounded(),
                Self.exactDouble(n) >= 1
            else { throw fail("\(what) must be a positive integer") }
            // Image sides are bounded as config.json's image_size is, so that products of them
            // (resize arithmetic, buffer sizes) cannot overflow.
            guard Self.exactDouble(n) <= Double(Self.maxSide) else {
                throw fail("\(what) is \(n.stringValue), more than the \(Self.maxSide) pixels allowed")
            }
            return Int(Self.exactDouble(n))
        }
        func double(_ v: Any) -> Double? {
            guard let n = v as? NSNumber, !Self.isBoolean(n) else { return nil }
            let d = Self.exactDouble(n)
            return d.isFinite ? d : nil
        }
        func number(_ key: String) throws -> Double? {
            guard let v = object[key], !(v is NSNull) else { return nil }
            guard let d = double(v) else { throw fail("\"\(key)\" must be a number") }
            return d
        }
        func triple(_ key: String) throws -> [Double]? {
            guard let v = object[key], !(v is NSNull) else { return nil }
            if let d = double(v) { return [d, d, d] }
            guard let a = v as? [Any], a.count == 3 else { throw fail("\"\(key)\" must be a number or a list of 3 numbers") }
            return try a.map {
                guard let d = double($0) else { throw fail("\"\(key)\" must be a list of 3 numbers") }
                return d
            }
        }

        if let v = try bool("do_resize") { doResize = v }
        if let size = object["size"], !(size is NSNull) {
            if let dict = size as? [String: Any] {
                if let s = dict["shortest_edge"], !(s is NSNull) {
                    if let l = dict["longest_edge"], !(l is NSNull) {
                        throw fail("\"size.longest_edge\" is not supported")
                    }
                    resize = .shortestEdge(try positiveInt(s, "\"size.shortest_edge\""))
                } else if let h = dict["height"], let w = dict["width"] {
                    resize = .exact(height: try positiveInt(h, "\"size.height\""), width: try positiveInt(w, "\"size.width\""))
                } else {
                    throw fail("\"size\" must have \"shortest_edge\" or \"height\" and \"width\"")
                }
            } else {
                // Legacy int: CLIP uses default_to_square=False, so it is the shortest edge.
                resize = .shortestEdge(try positiveInt(size, "\"size\""))
            }
        }
        if let v = try bool("do_center_crop") { doCenterCrop = v }
        if let crop = object["crop_size"], !(crop is NSNull) {
            if let dict = crop as? [String: Any] {
                guard let h = dict["height"], let w = dict["width"] else {
                    throw fail("\"crop_size\" must have \"height\" and \"width\"")
                }
                cropHeight = try positiveInt(h, "\"crop_size.height\"")
                cropWidth = try positiveInt(w, "\"crop_size.width\"")
            } else {
                let n = try positiveInt(crop, "\"crop_size\"")
                cropHeight = n
                cropWidth = n
            }
        }
        if let v = try bool("do_rescale") { doRescale = v }
        if let v = try number("rescale_factor") { rescaleFactor = v }
        if let v = try bool("do_normalize") { doNormalize = v }
        if let v = try triple("image_mean") { imageMean = v }
        if let v = try triple("image_std") { imageStd = v }
        if let v = try bool("do_convert_rgb") { doConvertRGB = v }
        if let r = object["resample"], !(r is NSNull) {
            guard let n = r as? NSNumber, !Self.isBoolean(n), Self.exactDouble(n) == Self.exactDouble(n).rounded(),
                abs(Self.exactDouble(n)) < 1e9
            else {
                throw fail("\"resample\" must be an integer (3, BICUBIC)")
            }
            resample = Int(Self.exactDouble(n))
        }
        try validate(file: file)
    }

    /// The largest size or crop side accepted (config.json's image_size has the same bound).
    public static let maxSide = 8192

    /// The largest magnitude a preprocessed pixel value may have. CLIP's lie within about ±3
    /// (and 0...255 with neither rescaling nor normalisation); values near float32's limit
    /// would overflow in the encoder and come out as NaN embeddings blamed on the weights.
    public static let maxPixelValue: Float = 1e6

    /// JSONSerialization reports true/false as NSNumbers of ObjC type "c".
    static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    /// The double a JSON number denotes, correctly rounded. On Linux, JSONSerialization returns
    /// NSDecimalNumber for decimals, whose `doubleValue` can be off by an ulp (0.00392156862745098
    /// is not 1/255 through it), which would change the rescaled float32 values.
    static func exactDouble(_ n: NSNumber) -> Double {
        if n is NSDecimalNumber, let d = Double(n.stringValue) { return d }
        return n.doubleValue
    }

    /// Checks the settings this implementation supports. Errors name `file` and, for the
    /// normalisation, `meanKey` and `stdKey`: an OpenCLIP checkpoint's mean and std come from
    /// `open_clip_config.json`'s `preprocess_cfg.mean` and `.std`, not transformers' keys.
    public func validate(file: String = "preprocessor_config.json", meanKey: String = "image_mean", stdKey: String = "image_std") throws {
        func fail(_ message: String) -> ImageError { ImageError(code: .badConfig, file: file, message: message) }
        guard resample == 3 || resample == 2 else {
            let names = [0: "NEAREST", 1: "LANCZOS", 4: "BOX", 5: "HAMMING"]
            throw fail(
                "resample \(resample)\(names[resample].map { " (\($0))" } ?? "") is not supported; only 3 (BICUBIC) and 2 (BILINEAR) are")
        }
        guard imageMean.count == 3, imageStd.count == 3 else { throw fail("\(meanKey) and \(stdKey) need 3 values") }
        // Mean and std are applied as float32: 1e300 is infinite there and 1e-50 is zero.
        for (c, m) in imageMean.enumerated() where !Float(m).isFinite {
            throw fail("\"\(meanKey)\" value \(c) is \(m), not a finite float32")
        }
        for (c, sd) in imageStd.enumerated() where !(Float(sd).isFinite && Float(sd) > 0) {
            throw fail("\"\(stdKey)\" value \(c) is \(sd), expected a positive finite float32")
        }
        guard rescaleFactor.isFinite, rescaleFactor > 0 else {
            throw fail("\"rescale_factor\" is \(rescaleFactor), expected a positive number")
        }
        switch resize {
        case .shortestEdge(let n): guard n > 0, n <= Self.maxSide else { throw fail("\"size\" must be in 1...\(Self.maxSide)") }
        case .exact(let h, let w):
            guard h > 0, w > 0, h <= Self.maxSide, w <= Self.maxSide else { throw fail("\"size\" must be in 1...\(Self.maxSide)") }
        }
        guard cropHeight > 0, cropWidth > 0, cropHeight <= Self.maxSide, cropWidth <= Self.maxSide else {
            throw fail("\"crop_size\" must be in 1...\(Self.maxSide)")
        }
        // The preprocessed values are linear in the byte value, so bytes 0 and 255 bound them.
        for c in 0..<3 {
            for v in [0, 255] {
                let rescaled = doRescale ? Float(Double(v) * rescaleFactor) : Float(v)
                guard rescaled.isFinite, abs(rescaled) <= Self.maxPixelValue else {
                    throw fail(
                        "\"rescale_factor\" \(rescaleFactor) makes pixel value \(v) into \(rescaled); preprocessed values must be within ±\(Self.maxPixelValue)"
                    )
                }
                guard doNormalize else { continue }
                let normalised = (rescaled - Float(imageMean[c])) / Float(imageStd[c])
                guard normalised.isFinite, abs(normalised) <= Self.maxPixelValue else {
                    throw fail(
                        "\"\(meanKey)\" \(imageMean[c]) and \"\(stdKey)\" \(imageStd[c]) make pixel value \(v) of channel \(c) into \(normalised); preprocessed values must be within ±\(Self.maxPixelValue)"
                    )
                }
            }
        }
    }
}
