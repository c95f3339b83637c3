import Foundation

extension PreprocessorConfig {
    /// transformers' `SiglipImageProcessor` settings for a vision tower of `imageSize`: resize
    /// straight to `size` (height × width, default `imageSize` × `imageSize`) with the configured
    /// resampling (default bicubic), no centre crop (the processor has none, whatever the file
    /// says), RGB conversion, rescale 1/255 and mean/std 0.5 unless `preprocessor_config.json`
    /// (`url`, optional) sets them.
    public static func siglip(contentsOf url: URL?, imageSize: Int) throws -> PreprocessorConfig {
        var config = PreprocessorConfig(imageSize: imageSize)
        var keys: Set<String> = []
        if let url, FileManager.default.fileExists(atPath: url.path) {
            config = try PreprocessorConfig(contentsOf: url, imageSize: imageSize)
            if let data = try? FileKind.contents(of: url, limit: FileKind.checkpointTextLimit),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                keys = Set(object.keys.filter { !(object[$0] is NSNull) })
            }
        }
        if !keys.contains("size") { config.resize = .exact(height: imageSize, width: imageSize) }
        if !keys.contains("image_mean") { config.imageMean = [0.5, 0.5, 0.5] }
        if !keys.contains("image_std") { config.imageStd = [0.5, 0.5, 0.5] }
        config.doCenterCrop = false
        config.cropHeight = imageSize
        config.cropWidth = imageSize
        return config
    }
}
