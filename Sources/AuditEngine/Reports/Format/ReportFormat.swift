import Foundation

/// How the human reports write numbers and user text: one place for every Markdown writer
/// (report.md, details.md, the card, the several-model report, `diff`) so a figure reads the
/// same wherever it appears.
enum ReportFormat {
    /// A proportion as a percentage to one decimal: `12.5%`.
    /// A proportion as a percentage to one decimal: `12.5%`.
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    /// A rate with its 95% interval: `12.5% [8.1, 18.7]`.
    static func percentWithCI(_ row: MetricRow) -> String {
        String(format: "%.1f%% [%.1f, %.1f]", row.value * 100, row.ciLow * 100, row.ciHigh * 100)
    }

    /// A non-negative gap in percentage points: `25.0 pp`.
    static func points(_ value: Double) -> String { String(format: "%.1f pp", value * 100) }

    /// A difference of proportions in percentage points, signed.
    static func signedPoints(_ value: Double) -> String { String(format: "%+.1f pp", value * 100) }

    /// A p-value to four decimals, `<0.0001` below that.
    static func formatP(_ p: Double) -> String { p < 0.0001 ? "<0.0001" : String(format: "%.4f", p) }

    /// A setting as written (`0.05`, `8`).
    static func formatNumber(_ value: Double) -> String { String(format: "%g", value) }

    /// User text within a line of Markdown: ``MarkdownEscape/text(_:)``.
    static func escape(_ text: String) -> String { MarkdownEscape.text(text) }

    /// A name as code in a table cell: ``MarkdownEscape/code(_:inTable:)``.
    static func code(_ text: String) -> String { MarkdownEscape.code(text, inTable: true) }

    /// `*`, the whole set's attribute and group in the tool's rows, as it is (a lone `*` between
    /// spaces cannot start emphasis); any other value escaped.
    static func wholeOrEscaped(_ text: String) -> String { text == "*" ? "*" : escape(text) }

    /// Alt text: no brackets or line breaks that would end it early, and escaped (``MarkdownEscape/alt(_:)``).
    static func escapeAlt(_ text: String) -> String { MarkdownEscape.alt(text) }
}
