import Foundation
import TestSupport

/// Reference values from `Fixtures/statistics_cases.json`, written by
/// `Fixtures/Generators/make_statistics_cases.py` with scipy and statsmodels.
struct StatisticsCases: Decodable {
    struct Wilson: Decodable { let successes: Int; let trials: Int; let z: Double; let low: Double; let high: Double }
    struct Normal: Decodable { let x: Double; let cdf: Double; let two_sided_p: Double }
    struct ZTest: Decodable { let x1: Int; let n1: Int; let x2: Int; let n2: Int; let z: Double?; let p: Double }
    struct Holm: Decodable { let p: [Double]; let adjusted: [Double] }
    struct McNemar: Decodable { let b: Int; let c: Int; let p: Double }
    struct Unpaired: Decodable { let x1: Int; let n1: Int; let x2: Int; let n2: Int; let low: Double; let high: Double }
    struct Paired: Decodable {
        let a: Int; let b: Int; let c: Int; let d: Int; let z: Double; let low: Double; let high: Double; let branch: String
    }
    /// A worked example of Newcombe (1998b): the paper's cells e, f, g, h and its printed limits.
    struct PairedPublished: Decodable {
        let e: Int; let f: Int; let g: Int; let h: Int; let low: Double; let high: Double; let branch: String
    }

    let wilson: [Wilson]
    let normal: [Normal]
    let two_proportion_z: [ZTest]
    let holm: [Holm]
    let mcnemar_exact: [McNemar]
    let newcombe_unpaired: [Unpaired]
    let newcombe_paired: [Paired]
    let newcombe_paired_published: [PairedPublished]

    static let shared: StatisticsCases = {
        let url = FixturePaths.packageRoot.appendingPathComponent("Fixtures/statistics_cases.json")
        do {
            return try JSONDecoder().decode(StatisticsCases.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()
}

/// |actual − expected| ≤ abs + rel·|expected|.
func close(_ actual: Double, _ expected: Double, rel: Double = 1e-9, abs absolute: Double = 1e-12) -> Bool {
    if actual == expected { return true }
    return Swift.abs(actual - expected) <= absolute + rel * Swift.abs(expected)
}
