import Testing

@testable import AuditEngine

@Suite("Statistics against scipy/statsmodels and published examples")
struct StatisticsTests {
    let cases = StatisticsCases.shared

    // MARK: Wilson

    @Test func wilsonMatchesStatsmodels() {
        #expect(cases.wilson.count > 20)
        for c in cases.wilson {
            let w = wilsonInterval(successes: c.successes, trials: c.trials, z: c.z)
            #expect(w != nil)
            guard let w else { continue }
            #expect(close(w.lower, c.low, rel: 1e-9, abs: 1e-13), "\(c.successes)/\(c.trials) z=\(c.z): \(w.lower) vs \(c.low)")
            #expect(close(w.upper, c.high, rel: 1e-9, abs: 1e-13), "\(c.successes)/\(c.trials) z=\(c.z): \(w.upper) vs \(c.high)")
        }
    }

    /// Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison
    /// of seven methods", Stat Med 17:857-872, Table II, method 3 (Wilson score, no continuity
    /// correction): 81/263 → 0.2553–0.3662, 15/148 → 0.0624–0.1605, 0/20 → 0–0.1611,
    /// 1/29 → 0.0061–0.1718.
    @Test(arguments: [
        (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)
    ])
    func wilsonPublishedExamples(_ x: Int, _ n: Int, _ low: Double, _ high: Double) throws {
        let w = try #require(wilsonInterval(successes: x, trials: n))
        #expect(abs(w.lower - low) < 0.00005)
        #expect(abs(w.upper - high) < 0.00005)
    }

    @Test func wilsonEmptySampleHasNoInterval() {
        #expect(wilsonInterval(successes: 0, trials: 0) == nil)
        #expect(wilsonInterval(successes: 0, trials: 0, z: 2.5) == nil)
    }

    @Test func wilsonBoundariesAreExact() throws {
        let zero = try #require(wilsonInterval(successes: 0, trials: 7))
        let all = try #require(wilsonInterval(successes: 7, trials: 7))
        #expect(zero.lower == 0)
        #expect(all.upper == 1)
        #expect(close(zero.upper, 1 - all.lower, rel: 1e-12))
    }

    // MARK: Normal

    @Test func normalMatchesScipy() {
        for c in cases.normal {
            #expect(close(standardNormalCDF(c.x), c.cdf, rel: 1e-12, abs: 0), "Φ(\(c.x))")
            #expect(close(twoSidedNormalPValue(z: c.x), c.two_sided_p, rel: 1e-12, abs: 0), "p(\(c.x))")
            #expect(close(standardNormalSurvival(-c.x), c.cdf, rel: 1e-12, abs: 0))
        }
        // The far lower tail keeps its relative accuracy (1 − erf would give 0).
        #expect(standardNormalCDF(-37.5) > 0)
    }

    // MARK: Pooled z-test

    @Test func pooledZTestMatchesChiSquare() {
        #expect(cases.two_proportion_z.count > 10)
        for c in cases.two_proportion_z {
            let t = pooledTwoProportionZTest(successes1: c.x1, trials1: c.n1, successes2: c.x2, trials2: c.n2)
            let label = "\(c.x1)/\(c.n1) vs \(c.x2)/\(c.n2)"
            // Far-tail p-values (1e-300 and below) are compared with a relative tolerance
            // that allows for the last digits of z.
            #expect(close(t.pValue, c.p, rel: 1e-8, abs: 1e-300), "\(label): \(t.pValue) vs \(c.p)")
            if let z = c.z {
                #expect(t.z != nil && close(t.z!, z, rel: 1e-10), "\(label): z")
            } else {
                #expect(t.z == nil, "\(label): undefined test")
            }
        }
    }

    /// Fagerland, Lydersen & Laake (2017), "Statistical Analysis of Contingency Tables",
    /// chapter 4, as checked by its companion R package `contingencytables`: Pearson χ² on
    /// [[3, 1], [1, 3]] gives T = 2.000, P = 0.15730.
    @Test func pooledZTestPublishedExample() {
        let t = pooledTwoProportionZTest(successes1: 3, trials1: 4, successes2: 1, trials2: 4)
        #expect(abs(t.pValue - 0.15730) < 0.000005)
        #expect(abs(t.z! * t.z! - 2.0) < 1e-12)
    }

    @Test func pooledZTestUndefinedCases() {
        #expect(pooledTwoProportionZTest(successes1: 0, trials1: 5, successes2: 0, trials2: 9).pValue == 1)
        #expect(pooledTwoProportionZTest(successes1: 5, trials1: 5, successes2: 9, trials2: 9).pValue == 1)
        #expect(pooledTwoProportionZTest(successes1: 0, trials1: 0, successes2: 3, trials2: 9).pValue == 1)
    }

    // MARK: Holm

    @Test func holmMatchesStatsmodels() {
        for c in cases.holm {
            let adjusted = holmAdjusted(c.p)
            #expect(adjusted.count == c.adjusted.count)
            for (a, e) in zip(adjusted, c.adjusted) {
                #expect(close(a, e, rel: 1e-12), "\(c.p): \(adjusted) vs \(c.adjusted)")
            }
        }
    }

    // MARK: McNemar

    @Test func exactMcNemarMatchesStatsmodels() {
        #expect(cases.mcnemar_exact.contains { $0.b + $0.c >= 1_000_000 })
        for c in cases.mcnemar_exact {
            let p = exactMcNemarPValue(b: c.b, c: c.c)
            // lgamma of numbers near 1e6 carries ~1e-9 relative error into the result.
            #expect(close(p, c.p, rel: 1e-7, abs: 1e-300), "b=\(c.b) c=\(c.c): \(p) vs \(c.p)")
        }
    }

    @Test func exactMcNemarSmallCasesByHand() {
        // b=2, c=8: 2·(1 + 10 + 45)/1024 = 0.109375.
        #expect(close(exactMcNemarPValue(b: 2, c: 8), 0.109375, rel: 1e-12))
        #expect(exactMcNemarPValue(b: 0, c: 0) == 1)
        #expect(exactMcNemarPValue(b: 4, c: 4) == 1)
        // b=0, c=5: 2·(1/32) = 0.0625.
        #expect(close(exactMcNemarPValue(b: 0, c: 5), 0.0625, rel: 1e-12))
    }

    /// Small counts are exact to the last bit (scipy's binomtest agrees): a p-value that is a
    /// dyadic fraction must not print one step off in a six-decimal report.
    @Test func exactMcNemarSmallCountsAreExact() {
        #expect(exactMcNemarPValue(b: 2, c: 6) == 37.0 / 128) // 0.2890625, prints 0.289062
        #expect(CSVNumber.format(exactMcNemarPValue(b: 2, c: 6)) == CSVNumber.format(0.2890625))
        #expect(exactMcNemarPValue(b: 3, c: 4) == 1)
        #expect(exactMcNemarPValue(b: 2, c: 8) == 0.109375)
        // n = 62, the largest exact case: 2·Σ_{i≤30} C(62, i)/2^62 against the integer sum by hand.
        var sum = 0.0, term = 1.0
        for i in 0...30 { if i > 0 { term = term * Double(62 - i + 1) / Double(i) }; sum += term }
        #expect(close(exactMcNemarPValue(b: 30, c: 32), 2 * sum / Double(sign: .plus, exponent: 62, significand: 1), rel: 1e-15))
    }

    // MARK: Difference intervals

    @Test func unpairedNewcombeMatchesStatsmodels() {
        for c in cases.newcombe_unpaired {
            let i = newcombeUnpairedDifferenceInterval(successes1: c.x1, trials1: c.n1, successes2: c.x2, trials2: c.n2)
            #expect(i != nil)
            guard let i else { continue }
            #expect(close(i.lower, c.low, rel: 1e-8, abs: 1e-12), "\(c.x1)/\(c.n1) - \(c.x2)/\(c.n2) lower \(i.lower) vs \(c.low)")
            #expect(close(i.upper, c.high, rel: 1e-8, abs: 1e-12), "\(c.x1)/\(c.n1) - \(c.x2)/\(c.n2) upper \(i.upper) vs \(c.high)")
        }
    }

    /// Newcombe (1998), "Interval estimation for the difference between independent
    /// proportions", Stat Med 17:873-890, Table II, method 10: 56/70 − 48/80 → 0.0524 to 0.3339;
    /// 0/10 − 0/10 → −0.2775 to 0.2775. Fagerland, Lydersen & Laake (2017) chapter 4, the
    /// epinephrine trial (Perondi et al. 2004) 7/34 − 1/34 → 0.0189 to 0.3404.
    @Test(arguments: [
        (56, 70, 48, 80, 0.0524, 0.3339), (0, 10, 0, 10, -0.2775, 0.2775), (7, 34, 1, 34, 0.0189, 0.3404)
    ])
    func unpairedNewcombePublishedExamples(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int, _ low: Double, _ high: Double) throws {
        let i = try #require(newcombeUnpairedDifferenceInterval(successes1: x1, trials1: n1, successes2: x2, trials2: n2))
        #expect(abs(i.lower - low) < 0.00005)
        #expect(abs(i.upper - high) < 0.00005)
    }

    /// Against a transcription of Newcombe (1998b) written from the paper (in the generator), on
    /// tables that take every branch of φ, at two confidence levels.
    @Test func pairedNewcombeMatchesIndependentTranscription() throws {
        let cases = self.cases.newcombe_paired
        try #require(cases.count >= 40)
        #expect(Set(cases.map(\.branch)).count == 4, "every branch of phi is exercised")
        for c in cases {
            let label = "\(c.a) \(c.b) \(c.c) \(c.d) z=\(c.z) (\(c.branch))"
            let i = try #require(
                newcombePairedDifferenceInterval(bothPositive: c.a, firstOnly: c.b, secondOnly: c.c, neither: c.d, z: c.z), "\(label)")
            #expect(close(i.lower, c.low, rel: 1e-9, abs: 1e-12), "\(label) lower \(i.lower) vs \(c.low)")
            #expect(close(i.upper, c.high, rel: 1e-9, abs: 1e-12), "\(label) upper \(i.upper) vs \(c.high)")
        }
    }

    /// Every worked example of Newcombe (1998b), "Improved confidence intervals for the difference
    /// between binomial proportions based on paired data", Stat Med 17:2635: 18 tables whose
    /// method-10 limits the paper prints to four decimals, covering each branch of φ (eh − fg < 0,
    /// 0 ≤ eh − fg ≤ n/2, eh − fg > n/2, an empty margin), φ = −1, no discordant pairs and an upper
    /// limit of 1. Within one unit of the fourth decimal: (1, 97, 1, 1) computes to 0.87367 and is
    /// printed 0.8736; the rest agree to the printed digit.
    @Test func pairedNewcombePublishedExamples() throws {
        let examples = self.cases.newcombe_paired_published
        try #require(examples.count == 18)
        #expect(Set(examples.map(\.branch)).count == 4, "the examples take every branch of phi")
        for x in examples {
            let label = "(\(x.e), \(x.f), \(x.g), \(x.h)) \(x.branch)"
            let i = try #require(newcombePairedDifferenceInterval(bothPositive: x.e, firstOnly: x.f, secondOnly: x.g, neither: x.h))
            #expect(abs(i.lower - x.low) <= 1e-4, "\(label): lower \(i.lower), published \(x.low)")
            #expect(abs(i.upper - x.high) <= 1e-4, "\(label): upper \(i.upper), published \(x.high)")
        }
    }

    /// Fagerland, Lydersen & Laake (2017), "Statistical Analysis of Contingency Tables",
    /// chapter 8 (paired 2×2 tables), complete response before/after consolidation therapy (Cavo et al. 2012),
    /// table [[59, 6], [16, 80]]: estimate −0.0621, Newcombe square-and-add 95% CI −0.1186 to −0.0046.
    @Test func pairedNewcombePublishedExample() throws {
        let i = try #require(newcombePairedDifferenceInterval(bothPositive: 59, firstOnly: 6, secondOnly: 16, neither: 80))
        #expect(abs(i.lower - -0.1186) < 0.00005)
        #expect(abs(i.upper - -0.0046) < 0.00005)
        #expect(newcombePairedDifferenceInterval(bothPositive: 0, firstOnly: 0, secondOnly: 0, neither: 0) == nil)
    }
}
