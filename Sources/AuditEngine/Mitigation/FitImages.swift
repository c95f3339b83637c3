import CLIPEngine
import Foundation

/// Per CLIP-clip mitigation name, per model: the fit images' unit embeddings (row-major, in
/// manifest order), each image's group index (groups in report order), the group count and the
/// image count.
public typealias FitEmbeddings = [String: [(embeddings: [Float], labels: [Int], groups: Int, count: Int)]]

/// CLIP-clip's fit images: read from each fit manifest, refused when any is also audited (by
/// path or by content), and encoded through the run's image embedder (and cache) for every model.
enum FitImages {
    static func embed(config: AuditConfig, rows: UsableRows, embedder: ImageEmbedder, models: Int) throws -> FitEmbeddings {
        var result: FitEmbeddings = [:]
        for mitigation in config.mitigations {
            guard case .clipClip(let attribute, _, let fit) = mitigation.method else { continue }
            let path = "mitigations[\(mitigation.index)].fit_manifest"
            let manifest: Manifest
            do {
                manifest = try Manifest.read(contentsOf: fit.path, fileColumn: fit.fileColumn)
            } catch {
                throw config.error(at: "\(path).path", "cannot read the fit manifest \(fit.path.lastPathComponent): \(error)")
            }
            guard let fileColumn = manifest.columnIndex(fit.fileColumn) else {
                throw config.error(
                    at: path,
                    "the fit manifest \(fit.path.lastPathComponent) has no column \"\(fit.fileColumn)\" (columns: \(manifest.columns.joined(separator: ", ")))"
                )
            }
            guard let attributeColumn = manifest.columnIndex(attribute) else {
                throw config.error(
                    at: "mitigations[\(mitigation.index)].attribute",
                    "the fit manifest \(fit.path.lastPathComponent) has no column \"\(attribute)\" (columns: \(manifest.columns.joined(separator: ", ")))"
                )
            }
            if let first = manifest.skipped.first {
                throw config.error(at: path, "the fit manifest \(fit.path.lastPathComponent): \(first)")
            }
            var urls: [URL] = [], values: [String] = [], lines: [Int] = []
            for row in manifest.rows {
                let file = row.fields[fileColumn], value = row.fields[attributeColumn]
                if file.isEmpty || value.isEmpty {
                    throw config.error(
                        at: path,
                        "the fit manifest \(fit.path.lastPathComponent), line \(row.line): no \(file.isEmpty ? fit.fileColumn : attribute)")
                }
                urls.append(RowChecker.imageURL(root: fit.imageRoot, path: file))
                values.append(value)
                lines.append(row.line)
            }
            if urls.isEmpty { throw config.error(at: path, "the fit manifest \(fit.path.lastPathComponent) has no images") }
            let groups = Array(Set(values)).sorted(by: compareGroupValues)
            if groups.count < 2 {
                throw config.error(
                    at: path, "the fit images have one \(attribute) group (\(groups[0])); the mutual information needs at least two")
            }
            let labels = values.map { groups.firstIndex(of: $0)! }

            // Same path: refused before anything is read.
            let audited = Dictionary(rows.indices.map { (rows.imageURL($0).path, $0) }, uniquingKeysWith: { a, _ in a })
            for (i, url) in urls.enumerated() {
                if let row = audited[url.path] {
                    throw config.error(at: path, overlap(fit, lines[i], url, row: row, rows: rows, how: "is"))
                }
            }

            var embeddings = Array(repeating: [Float](), count: models)
            var hashes = [String](repeating: "", count: urls.count)
            var dimension = 0
            let fitURLs = urls
            try embedder.embedAll(count: urls.count, file: { fitURLs[$0] }) { files, outcomes in
                for (position, index) in files.enumerated() {
                    for m in 0..<models {
                        switch outcomes[m][position] {
                        case .embedded(let sha, let embedding, _):
                            hashes[index] = sha
                            dimension = embedding.count
                            embeddings[m] += ZeroShotScorer.normalized(embedding)
                        case .failed(_, let reason):
                            throw config.error(
                                at: path,
                                "fit image \(fitURLs[index].lastPathComponent) (\(fit.path.lastPathComponent) line \(lines[index])): \(reason)"
                            )
                        }
                    }
                }
            }
            // Same content: only an audited file of the same size as a fit image can be one,
            // so only those are read and hashed.
            var bySize: [Int: [Int]] = [:]
            for (i, url) in urls.enumerated() { bySize[fileSize(url) ?? -1, default: []].append(i) }
            let byHash = Dictionary(hashes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            for row in rows.indices {
                let url = rows.imageURL(row)
                guard let size = fileSize(url), bySize[size] != nil, let hash = try? SHA256Digest.hex(ofFile: url),
                    let i = byHash[hash]
                else { continue }
                throw config.error(at: path, overlap(fit, lines[i], urls[i], row: row, rows: rows, how: "has the same content as"))
            }
            result[mitigation.name] = embeddings.map { ($0, labels, groups.count, dimension > 0 ? $0.count / dimension : 0) }
        }
        return result
    }

    private static func overlap(_ fit: ManifestSettings, _ line: Int, _ url: URL, row: Int, rows: UsableRows, how: String) -> String {
        "fit image \(url.lastPathComponent) (\(fit.path.lastPathComponent) line \(line)) \(how) an audited image (manifest line \(rows.line(row)): \(rows.file(row))); "
            + "fitting on audited images would measure the fix on the images it was fitted to"
    }

    private static func fileSize(_ url: URL) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue
    }
}
