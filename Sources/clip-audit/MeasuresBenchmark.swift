import AuditEngine
import CLIPEngine
import Foundation

/// `bench --measures`: the retrieval and association sections timed at the size the audit of
/// FairFace validation gives them, on random unit embeddings (their cost does not depend on the
/// values): 10,954 images of 512 dimensions; Berg et al.'s 319 queries over race (7 groups),
/// gender (2) and age (9) at k 10, 100 and 1000 with both desired distributions and 1,000 null
/// permutations; one association test of 10,000 permutations between the two genders over 8 + 8
/// words. Prints one JSON line.
enum MeasuresBenchmark {
    static let images = 10_954, dimension = 512, queries = 319

    static func run(threads: Int) throws -> String {
        CLIPModel.setThreads(threads)
        var random = SeededRandom(seed: 42)
        func unitVector() -> [Float] {
            // Box–Muller normals, normalised: directions uniform on the sphere.
            var v = (0..<dimension).map { _ -> Float in
                let u = max(random.nextUnit(), 1e-300), w = random.nextUnit()
                return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * w))
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in v.indices { v[i] /= norm }
            return v
        }
        let embeddings = (0..<images).flatMap { _ in unitVector() }
        let queryList = (0..<queries).map { (text: "query \($0)", embedding: unitVector()) }
        // FairFace validation's group shares, roughly.
        func labels(_ weights: [Double]) -> [Int] {
            let total = weights.reduce(0, +)
            return (0..<images).map { _ in
                var u = random.nextUnit() * total, g = 0
                while g < weights.count - 1 && u >= weights[g] { u -= weights[g]; g += 1 }
                return g
            }
        }
        let attributes = [
            RetrievalAttribute(name: "race", groups: (0..<7).map { "r\($0)" }, labels: labels([19, 14, 15, 14, 13, 14, 11])),
            RetrievalAttribute(name: "gender", groups: ["Male", "Female"], labels: labels([53, 47])),
            RetrievalAttribute(name: "age", groups: (0..<9).map { "a\($0)" }, labels: labels([2, 12, 10, 30, 22, 12, 7, 3, 1]))
        ]

        let retrievalStart = Date()
        let measured = RetrievalSkew.measure(
            images: embeddings, count: images, dimension: dimension, queries: queryList,
            attributes: attributes, ks: [10, 100, 1000], permutations: 1000, seed: 1)
        let retrievalSeconds = Date().timeIntervalSince(retrievalStart)

        let associationStart = Date()
        let words = (0..<16).map { _ in unitVector() }
        let s = AssociationTest.associations(
            images: embeddings, count: images, dimension: dimension,
            a: Array(words[0..<8]), b: Array(words[8...]))
        let gender = attributes[1].labels
        let result = AssociationTest.test(
            s: s, x: gender.indices.filter { gender[$0] == 0 },
            y: gender.indices.filter { gender[$0] == 1 }, permutations: 10_000, seed: 1)
        let associationSeconds = Date().timeIntervalSince(associationStart)

        let line: [String: Any] = [
            "images": images, "dimension": dimension, "queries": queries, "threads": threads,
            "retrieval_rows": measured.rows.count,
            "retrieval_s": (retrievalSeconds * 1000).rounded() / 1000,
            "association_s": (associationSeconds * 1000).rounded() / 1000,
            "association_permutations": result.permutations,
            "peak_rss_mb": (peakResidentKiB() / 1024 * 10).rounded() / 10
        ]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
