import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// The seeded statistics against references that share nothing with clip-audit's random-number
/// scheme (`Fixtures/seeded_statistics_cases.json`, made by
/// `Fixtures/Generators/make_seeded_statistics_cases.py`): exact enumerations where they are
/// feasible, scipy's permutation test and bootstrap (numpy's generator) elsewhere. A seeded figure
/// must fall within 5 Monte Carlo standard errors of the reference (both sides' errors counted),
/// so a wrong shuffle, count or percentile moves it out, while another seed would not.
@Suite("seeded statistics against independent references")
struct SeededStatisticsTests {
    struct Cases: Decodable {
        struct Bootstrap: Decodable {
            var resamples: Int
            var low_mean, low_sd, high_mean, high_sd: Double
        }
        struct Association: Decodable {
            var name: String
            var s: [Double]
            var x, y: [Int]
            var effect_size, p_reference: Double
            var reference: String
            var reference_draws: Int
            var partitions: Int?
            var bootstrap: Bootstrap
        }
        struct NullRow: Decodable {
            var query, attribute, desired: String
            var k: Int
            var max_skew, null_mean, null_sd, p_exact: Double
        }
        struct RetrievalNull: Decodable { var rows: [NullRow] }
        var association: [Association]
        var retrieval_null: RetrievalNull
    }

    static let cases: Cases = {
        let url = FixturePaths.root.appendingPathComponent("seeded_statistics_cases.json")
        return try! JSONDecoder().decode(Cases.self, from: Data(contentsOf: url))
    }()

    /// How far a p-value estimated from `draws` permutations, (1 + count) / (1 + draws), may sit
    /// from a reference p estimated from `referenceDraws` (0: exact): 5 binomial standard errors
    /// of both, plus the estimator's own offset of at most 1 / (1 + draws).
    static func pBand(_ p: Double, draws: Int, referenceDraws: Int) -> Double {
        let variance = max(0, p * (1 - p)) * (1 / Double(draws) + (referenceDraws > 0 ? 1 / Double(referenceDraws) : 0))
        return 5 * variance.squareRoot() + 1 / Double(1 + draws)
    }

    @Test("the sampled permutation p-value lies in the band of the exact or scipy p-value")
    func associationPValue() throws {
        let cases = Self.cases.association
        try #require(cases.count == 5)
        #expect(cases.contains { $0.partitions != nil } && cases.contains { $0.partitions == nil })
        for c in cases {
            let draws = 20_000
            // Below the partition count of the small cases (24,310), so these are sampled too.
            let result = AssociationTest.test(s: c.s, x: c.x, y: c.y, permutations: draws, seed: 29)
            #expect(!result.exact && result.permutations == draws, "\(c.name)")
            #expect(abs(result.effectSize - c.effect_size) <= 1e-9 * max(1, abs(c.effect_size)), "\(c.name): effect size")
            let band = Self.pBand(c.p_reference, draws: draws, referenceDraws: c.reference_draws)
            #expect(
                abs(result.pValue - c.p_reference) <= band,
                "\(c.name): p \(result.pValue) against \(c.reference) \(c.p_reference) ± \(band)")
        }
    }

    @Test("with permutations to spare, every re-partition is counted and p equals the exact enumeration")
    func associationExactPValue() throws {
        let small = Self.cases.association.filter { $0.partitions != nil }
        try #require(small.count == 3)
        for c in small {
            let partitions = try #require(c.partitions)
            let result = AssociationTest.test(s: c.s, x: c.x, y: c.y, permutations: partitions, seed: 1)
            #expect(result.exact && result.permutations == partitions, "\(c.name)")
            #expect(abs(result.pValue - c.p_reference) <= 1e-12, "\(c.name): p \(result.pValue) vs exact \(c.p_reference)")
        }
    }

    @Test("the bootstrap interval's endpoints lie in the band of scipy's bootstrap at the same resample count")
    func bootstrapInterval() throws {
        let cases = Self.cases.association
        try #require(!cases.isEmpty)
        // One interval's endpoints spread by about 0.085 bootstrap sd (a 2.5% quantile of 1,000
        // draws); averaged over 40 seeds the band narrows six-fold, enough to catch a quantile
        // taken at 5% instead of 2.5%, which one interval alone would not show.
        let seeds = (1...40).map(UInt64.init)
        for c in cases {
            // The band is measured at clip-audit's resample count, over 2,000 scipy runs.
            try #require(c.bootstrap.resamples == AssociationTest.bootstrapResamples)
            let b = c.bootstrap
            var lows: [Double] = [], highs: [Double] = []
            for seed in seeds {
                let result = AssociationTest.test(s: c.s, x: c.x, y: c.y, permutations: 10, seed: seed)
                #expect(
                    abs(result.ciLow - b.low_mean) <= 5 * b.low_sd,
                    "\(c.name) seed \(seed): low \(result.ciLow) against \(b.low_mean) ± 5 × \(b.low_sd)")
                #expect(
                    abs(result.ciHigh - b.high_mean) <= 5 * b.high_sd,
                    "\(c.name) seed \(seed): high \(result.ciHigh) against \(b.high_mean) ± 5 × \(b.high_sd)")
                lows.append(result.ciLow)
                highs.append(result.ciHigh)
            }
            let n = Double(seeds.count), runs = 2_000.0
            let low = lows.reduce(0, +) / n, high = highs.reduce(0, +) / n
            let lowBand = 5 * b.low_sd * (1 / n + 1 / runs).squareRoot()
            let highBand = 5 * b.high_sd * (1 / n + 1 / runs).squareRoot()
            #expect(abs(low - b.low_mean) <= lowBand, "\(c.name): mean low \(low) against \(b.low_mean) ± \(lowBand)")
            #expect(abs(high - b.high_mean) <= highBand, "\(c.name): mean high \(high) against \(b.high_mean) ± \(highBand)")
        }
    }

    @Test("the retrieval null's mean and p-value lie in the band of the exact hypergeometric null")
    func retrievalNull() throws {
        let c = RetrievalTests.cases.retrieval[0]
        let permutations = 4_000
        let result = RetrievalSkew.measure(
            images: c.images, count: c.count, dimension: c.dimension,
            queries: c.queries.map { (text: $0.text, embedding: $0.embedding) },
            attributes: c.attributes.map { RetrievalAttribute(name: $0.name, groups: $0.groups, labels: $0.labels) },
            ks: c.ks, permutations: permutations, seed: 4242)
        let rows = Self.cases.retrieval_null.rows
        try #require(rows.count == c.rows.count && !rows.isEmpty)
        for reference in rows {
            let label = "\(reference.query) \(reference.attribute) k=\(reference.k) \(reference.desired)"
            let mine = try #require(
                result.rows.first {
                    ($0.query ?? "*") == reference.query && $0.attribute.csvText == reference.attribute && $0.k == reference.k
                        && $0.desired.rawValue == reference.desired
                }, "\(label): no row")
            // The observed figure is the numpy implementation's, so the p-values refer to the same value.
            #expect(abs(mine.maxSkew - reference.max_skew) <= 1e-9, "\(label): max skew")
            let mean = try #require(mine.nullMaxSkew), p = try #require(mine.pValue)
            let meanBand = 5 * reference.null_sd / Double(permutations).squareRoot() + 1e-12
            #expect(abs(mean - reference.null_mean) <= meanBand, "\(label): null mean \(mean) vs \(reference.null_mean) ± \(meanBand)")
            let pBand = Self.pBand(reference.p_exact, draws: permutations, referenceDraws: 0)
            #expect(abs(p - reference.p_exact) <= pBand, "\(label): p \(p) vs exact \(reference.p_exact) ± \(pBand)")
        }
    }
}
