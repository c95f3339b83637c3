import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// Retrieval skew and association tests against hand-worked cases and against an independent
/// numpy implementation of the published definitions (`Fixtures/retrieval_cases.json`, made by
/// `Fixtures/Generators/make_retrieval_cases.py`).
@Suite("retrieval skew and association tests")
struct RetrievalTests {
    // MARK: Fixture shapes

    struct Cases: Decodable {
        var retrieval: [RetrievalCase]
        var null_exact: NullExact
        var association: [AssociationCase]
    }

    struct RetrievalCase: Decodable {
        struct Query: Decodable { var text: String; var embedding: [Float] }
        struct Attribute: Decodable { var name: String; var groups: [String]; var labels: [Int] }
        struct Row: Decodable {
            var query, attribute, desired, max_group, min_group: String
            var k: Int
            var max_skew, min_skew, ndkl, null_max_skew, p_value: Double
        }
        struct GroupRow: Decodable {
            var query, attribute, group: String
            var k, count: Int
            var share, desired_share, skew: Double
        }
        var name: String
        var count, dimension, permutations: Int
        var seed: UInt64
        var images: [Float]
        var queries: [Query]
        var attributes: [Attribute]
        var ks: [Int]
        var rows: [Row]
        var group_rows: [GroupRow]
    }

    struct NullExact: Decodable {
        var labels: [Int]
        var k: Int
        var mean_max_skew, sd_max_skew, observed_max_skew, p_at_least_observed: Double
    }

    struct AssociationCase: Decodable {
        var name: String
        var count, dimension, permutations, evaluated: Int
        var seed: UInt64
        var images: [Float]
        var x, y: [Int]
        var a, b: [[Float]]
        var s: [Double]
        var effect_size, ci_low, ci_high, p_value: Double
        var exact: Bool
    }

    static let cases: Cases = {
        let url = FixturePaths.root.appendingPathComponent("retrieval_cases.json")
        return try! JSONDecoder().decode(Cases.self, from: Data(contentsOf: url))
    }()

    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(b))
    }

    // MARK: Hand-worked

    /// Ten faces in two groups (A: 6, B: 4), ranked A A A B A B A A B B for the query: image i
    /// sits at angle 0.1·i from the query, so the ranking is the image order.
    static func handRanking(ks: [Int]) -> (rows: [RetrievalRow], groups: [RetrievalGroupRow]) {
        let labels = "AAABABAABB".map { $0 == "A" ? 0 : 1 }
        let images = (0..<10).flatMap { i in [Float(cos(0.1 * Double(i))), Float(sin(0.1 * Double(i)))] }
        return RetrievalSkew.measure(
            images: images, count: 10, dimension: 2, queries: [(text: "q", embedding: [1, 0])],
            attributes: [RetrievalAttribute(name: "g", groups: ["A", "B"], labels: labels)],
            ks: ks, permutations: 0, seed: 1)
    }

    @Test("Skew@k, MaxSkew, MinSkew and NDKL of a ten-face ranking, worked by hand")
    func handWorked() {
        let result = Self.handRanking(ks: [2, 4, 5, 10])
        func row(_ k: Int) -> RetrievalRow {
            result.rows.first { $0.query == "q" && $0.k == k && $0.desired == .dataset }!
        }
        // k = 5: A 4 of 5 (0.8 against 0.6), B 1 of 5 (0.2 against 0.4).
        #expect(Self.close(row(5).maxSkew, log(0.8 / 0.6)) && row(5).maxGroup == "A")
        #expect(Self.close(row(5).minSkew, log(0.2 / 0.4)) && row(5).minGroup == "B")
        // k = 2: B is absent and counts as 1/k: ln(0.5 / 0.4); A: ln(1 / 0.6).
        let groups2 = result.groups.filter { $0.k == 2 }
        #expect(Self.close(groups2[1].skew, log(0.5 / 0.4)) && groups2[1].count == 0)
        #expect(Self.close(groups2[0].skew, log(1 / 0.6)))
        // NDKL@2: D_1 = D_2 = (1, 0), so every term's KL is ln(1/0.6) and NDKL equals it.
        #expect(Self.close(row(2).ndkl, log(1 / 0.6)))
        // NDKL@4: (KL₁/1 + KL₂/log2 3 + KL₃/2 + KL₄/log2 5) / (1 + 1/log2 3 + 1/2 + 1/log2 5), with
        // KL₁..₃ = ln(1/0.6) and KL₄ = 0.75 ln(0.75/0.6) + 0.25 ln(0.25/0.4) = 0.049857.
        #expect(abs(row(4).ndkl - 0.433324) < 1e-6)
        // NDKL@5 = 0.388477, and at k = 10 the top is the whole set: every skew 0.
        #expect(abs(row(5).ndkl - 0.388477) < 1e-6)
        #expect(row(10).maxSkew == 0 && row(10).minSkew == 0)
        // Uniform desired: k = 5 gives A ln(0.8/0.5), B ln(0.2/0.5).
        let uniform5 = result.rows.first { $0.query == "q" && $0.k == 5 && $0.desired == .uniform }!
        #expect(Self.close(uniform5.maxSkew, log(1.6)) && Self.close(uniform5.minSkew, log(0.4)))
        // The `*` rows come first and, with one query, equal its figures, without groups or p.
        let mean5 = result.rows.first { $0.query == nil && $0.k == 5 && $0.desired == .dataset }!
        #expect(mean5.maxSkew == row(5).maxSkew && mean5.maxGroup == nil && mean5.pValue == nil)
        #expect(result.rows.first.map { $0.query == nil } == true)
    }

    @Test("ties in similarity keep image order, ties in skew name the first group")
    func ties() {
        var top = [Int](repeating: 0, count: 3)
        [Float(0.5), 0.9, 0.5, 0.9].withUnsafeBufferPointer { RetrievalSkew.topK($0, k: 3, into: &top) }
        #expect(top == [1, 3, 0])
        #expect(RetrievalSkew.extremes([0.2, 0.5, 0.5, 0.2]) == (1, 0))
    }

    // MARK: Against the independent implementation

    @Test("every retrieval.csv and retrieval_groups.csv figure equals the numpy implementation's")
    func matchesIndependentImplementation() throws {
        try #require(!Self.cases.retrieval.isEmpty)
        for c in Self.cases.retrieval {
            let result = RetrievalSkew.measure(
                images: c.images, count: c.count, dimension: c.dimension,
                queries: c.queries.map { (text: $0.text, embedding: $0.embedding) },
                attributes: c.attributes.map { RetrievalAttribute(name: $0.name, groups: $0.groups, labels: $0.labels) },
                ks: c.ks, permutations: c.permutations, seed: c.seed)
            let perQuery = result.rows.filter { $0.query != nil }
            try #require(perQuery.count == c.rows.count && !c.rows.isEmpty, "\(c.name)")
            for (mine, theirs) in zip(perQuery, c.rows) {
                let label = "\(c.name): \(theirs.query) \(theirs.attribute) k=\(theirs.k) \(theirs.desired)"
                #expect(
                    (mine.query ?? "*") == theirs.query && mine.attribute.csvText == theirs.attribute && mine.k == theirs.k
                        && mine.desired.rawValue == theirs.desired, "\(label): row order")
                #expect(Self.close(mine.maxSkew, theirs.max_skew) && Self.close(mine.minSkew, theirs.min_skew), "\(label)")
                #expect(Self.close(mine.ndkl, theirs.ndkl), "\(label): ndkl \(mine.ndkl) vs \(theirs.ndkl)")
                #expect(mine.maxGroup == theirs.max_group && mine.minGroup == theirs.min_group, "\(label)")
                #expect(Self.close(mine.nullMaxSkew ?? .nan, theirs.null_max_skew), "\(label): null")
                #expect(Self.close(mine.pValue ?? .nan, theirs.p_value), "\(label): p")
            }
            try #require(result.groups.count == c.group_rows.count && !c.group_rows.isEmpty)
            for (mine, theirs) in zip(result.groups, c.group_rows) {
                #expect(
                    (mine.query ?? "*") == theirs.query && mine.attribute.csvText == theirs.attribute && mine.group == theirs.group
                        && mine.k == theirs.k && mine.count == theirs.count)
                #expect(
                    Self.close(mine.share, theirs.share) && Self.close(mine.desiredShare, theirs.desired_share)
                        && Self.close(mine.skew, theirs.skew))
            }
            // `*`: the mean over queries of each per-query figure.
            for star in result.rows where star.query == nil {
                let same = perQuery.filter { $0.attribute == star.attribute && $0.k == star.k && $0.desired == star.desired }
                #expect(same.count == c.queries.count)
                #expect(Self.close(star.ndkl, same.reduce(0) { $0 + $1.ndkl } / Double(same.count)))
            }
        }
    }

    @Test("the permutation null's mean and p-value agree with the exact hypergeometric values")
    func nullMatchesExactHypergeometric() {
        let exact = Self.cases.null_exact
        let attribute = RetrievalAttribute(name: "g", groups: ["a", "b", "c"], labels: exact.labels)
        let plan = RetrievalSkew.AttributePlan(attribute, count: exact.labels.count, ks: [exact.k])
        let draws = 40_000
        let null = plan.nullMaxSkews(ks: [exact.k], permutations: draws, seed: 99)[.dataset]![0]
        let mean = null.reduce(0, +) / Double(draws)
        // Within four standard errors of the exact mean and of the exact tail probability.
        #expect(abs(mean - exact.mean_max_skew) < 4 * exact.sd_max_skew / Double(draws).squareRoot(), "mean \(mean)")
        let tail = Double(null.filter { $0 >= exact.observed_max_skew }.count) / Double(draws)
        let p = exact.p_at_least_observed
        #expect(abs(tail - p) < 4 * (p * (1 - p) / Double(draws)).squareRoot(), "tail \(tail) vs \(p)")
    }

    @Test("association effect size, interval and p-value equal the numpy implementation's (exact and sampled)")
    func associationMatchesIndependentImplementation() throws {
        try #require(Self.cases.association.count == 2)
        for c in Self.cases.association {
            let s = AssociationTest.associations(images: c.images, count: c.count, dimension: c.dimension, a: c.a, b: c.b)
            // zip stops at the shorter side: without this, two empty lists would pass.
            try #require(s.count == c.count && c.s.count == c.count && c.count > 0, "\(c.name): \(s.count) vs \(c.s.count) values")
            for (mine, theirs) in zip(s, c.s) { #expect(abs(mine - theirs) < 1e-12, "\(c.name): s") }
            let result = AssociationTest.test(s: c.s, x: c.x, y: c.y, permutations: c.permutations, seed: c.seed)
            #expect(Self.close(result.effectSize, c.effect_size), "\(c.name): effect \(result.effectSize)")
            #expect(Self.close(result.ciLow, c.ci_low) && Self.close(result.ciHigh, c.ci_high), "\(c.name): interval")
            #expect(Self.close(result.pValue, c.p_value), "\(c.name): p \(result.pValue) vs \(c.p_value)")
            #expect(result.exact == c.exact && result.permutations == c.evaluated, "\(c.name)")
        }
    }

    @Test("an exact test enumerates C(n, |X|) partitions; one more than allowed samples instead")
    func exactThreshold() {
        #expect(AssociationTest.binomial(11, 5, cap: 462) == 462)
        #expect(AssociationTest.binomial(11, 5, cap: 461) == nil)
        #expect(AssociationTest.binomial(200, 100, cap: 10_000) == nil)
        var sums: [Double] = []
        AssociationTest.forEachSubsetSum([1, 2, 4, 8], size: 2) { sums.append($0) }
        #expect(sums == [3, 5, 9, 6, 10, 12])
    }
}
