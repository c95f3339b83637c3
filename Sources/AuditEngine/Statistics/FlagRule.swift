/// Which rule flagged a disparity (docs/report-files.md, "A group against its reference"): a
/// reader weighs a Holm-significant difference and a four-fifths-only one differently, so every
/// flag the reports show names its rule.
public enum FlagRule: Sendable, Hashable {
    /// The Holm-adjusted p-value is below `alpha` (the four-fifths rule may hold too).
    case holm
    /// Outside the four-fifths band with enough images on both sides and a difference of at
    /// least `min_difference`, but not Holm-significant.
    case fourFifthsOnly

    /// The rule in the reports' words.
    public var label: String {
        switch self {
        case .holm: return "significant (Holm)"
        case .fourFifthsOnly: return "four-fifths only"
        }
    }
}

extension DisparityRow {
    /// The rule that flags the row, or nil when it is not flagged (``isFlagged``).
    public var flagRule: FlagRule? {
        if significant { return .holm }
        return isFlagged ? .fourFifthsOnly : nil
    }

    /// The difference's interval bound nearest zero: the size of the gap the data make sure of,
    /// 0 when the interval holds 0. Findings are ranked by it.
    public var assuredDifference: Double {
        if differenceCILow > 0 { return differenceCILow }
        if differenceCIHigh < 0 { return differenceCIHigh }
        return 0
    }
}
