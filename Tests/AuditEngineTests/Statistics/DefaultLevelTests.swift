import Testing

@testable import AuditEngine

/// Every interval in a report is computed at the functions' default `z`. The statsmodels cases
/// pass `z` explicitly, so without these checks a wrong default (1.96 for the contract's
/// 1.959964, say) would be caught only through the unpaired Newcombe cases.
@Suite struct DefaultLevelTests {
    let cases = StatisticsCases.shared

    /// Wilson at the default `z` against statsmodels' `proportion_confint(method="wilson")` at the
    /// level whose quantile is the contract's z (the cases recorded with that z).
    @Test func wilsonDefaultIsTheContractsLevel() throws {
        let atDefault = cases.wilson.filter { $0.z == 1.959964 }
        #expect(atDefault.count > 10)
        for c in atDefault {
            let w = try #require(wilsonInterval(successes: c.successes, trials: c.trials))
            #expect(close(w.lower, c.low, rel: 1e-9, abs: 1e-13), "\(c.successes)/\(c.trials): \(w.lower) vs \(c.low)")
            #expect(close(w.upper, c.high, rel: 1e-9, abs: 1e-13), "\(c.successes)/\(c.trials): \(w.upper) vs \(c.high)")
        }
    }

    /// The paired Newcombe interval at the default `z` against the cases made at the contract's z.
    @Test func pairedNewcombeDefaultIsTheContractsLevel() throws {
        let atDefault = cases.newcombe_paired.filter { $0.z == 1.959964 }
        #expect(!atDefault.isEmpty)
        for c in atDefault {
            let i = try #require(newcombePairedDifferenceInterval(bothPositive: c.a, firstOnly: c.b, secondOnly: c.c, neither: c.d))
            #expect(close(i.lower, c.low, rel: 1e-9, abs: 1e-12), "\(c.a) \(c.b) \(c.c) \(c.d) lower \(i.lower) vs \(c.low)")
            #expect(close(i.upper, c.high, rel: 1e-9, abs: 1e-12), "\(c.a) \(c.b) \(c.c) \(c.d) upper \(i.upper) vs \(c.high)")
        }
    }
}
