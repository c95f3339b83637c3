import Foundation

/// Cross-checks the figures report.md prints against the CSVs of the same folder: every
/// percentage, interval, difference in percentage points, ratio, p-value and n in its figure
/// tables must be the rounding of a value in `metrics.csv`, `disparities.csv`, `summary.csv` or
/// `comparison.csv` (the variant table's Holm p-values are recomputed from comparison.csv's
/// unadjusted ones). The report snapshots pin what the report looks like; they are the tool's own
/// output, and a rewrite of them would carry a wrong figure along. This check does not depend on
/// a snapshot: a figure the markdown computes differently from the CSVs fails it.
///
/// A table whose header it does not know is a problem too, so that a new figure table cannot
/// slip past unchecked.
public enum ReportFigures {
    public struct Outcome {
        /// Figures compared, by table kind.
        public var checked: [String: Int] = [:]
        public var problems: [String] = []
    }

    /// Tables that hold no figure from the CSVs (setup, designs, skipped rows).
    static let figureFreeHeaders: [String] = [
        "| | |", "| Design | Target |", "| reason | rows |", "| line | file | reason |"
    ]

    public static func check(folder: URL) throws -> Outcome {
        let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        var checker = Checker(
            metrics: try CSVTable(folder.appendingPathComponent("metrics.csv")),
            disparities: try CSVTable(folder.appendingPathComponent("disparities.csv")),
            summary: try CSVTable(folder.appendingPathComponent("summary.csv")),
            comparison: try CSVTable(folder.appendingPathComponent("comparison.csv")),
            retrieval: try CSVTable(optional: folder.appendingPathComponent("retrieval.csv")),
            association: try CSVTable(optional: folder.appendingPathComponent("association.csv")))
        checker.run(markdown)
        return checker.outcome
    }

    /// The top report of a several-model audit: its overview (each model's rate over all images)
    /// against each model's metrics.csv, and its table of differences from the base model against
    /// models.csv. Its other tables repeat figures of the models' own reports.
    public static func checkModels(top: URL) throws -> Outcome {
        let markdown = try String(contentsOf: top.appendingPathComponent("report.md"), encoding: .utf8)
        let models = try CSVTable(top.appendingPathComponent("models.csv"))
        var checker = Checker(
            metrics: CSVTable(header: [], rows: []), disparities: CSVTable(header: [], rows: []),
            summary: CSVTable(header: [], rows: []), comparison: CSVTable(header: [], rows: []),
            retrieval: CSVTable(header: [], rows: []), association: CSVTable(header: [], rows: []))
        var perModel: [String: CSVTable] = [:]
        let lines = markdown.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            guard lines[i].hasPrefix("|") else {
                i += 1
                continue
            }
            var table: [String] = []
            while i < lines.count && lines[i].hasPrefix("|") { table.append(lines[i]); i += 1 }
            let header = Checker.cells(table[0])
            let rows = table.dropFirst(2).map(Checker.cells).filter { $0.count == header.count }
            if header.first == "model" && header.last == "McNemar p (Holm)" {
                for c in rows where c[4] != "…" {
                    let model = c[0].replacingOccurrences(of: "`", with: ""), group = Checker.groupName(c[4])
                    let where_ = "differences: \(model) \(c[1]) \(c[2]) \(c[3]) \(group)"
                    guard
                        let row = models.rows.first(where: {
                            $0["model"] == model && $0["design"] == c[1] && $0["metric"] == c[2] && $0["attribute"] == c[3]
                                && $0["group"] == group
                        })
                    else {
                        checker.problem("\(where_): not in models.csv")
                        continue
                    }
                    checker.expectEqual(c[5], row["n"], where_ + " n")
                    checker.expectPercentWithN(c[6], value: row["base_value"], n: nil, where_ + " base")
                    checker.expectPercentWithN(c[7], value: row["value"], n: nil, where_ + " model")
                    checker.expectPP(c[8], value: row["delta"], low: row["ci_low"], high: row["ci_high"], where_ + " delta")
                    checker.expectP(c[9], row["p_adjusted"], where_ + " p")
                    checker.count("model differences")
                }
            } else if header.count > 2 && header[0] == "design" && header[1] == "metric" && header[2].hasSuffix(" (95% CI)") {
                for c in rows {
                    for column in 2..<header.count {
                        let label = header[column].replacingOccurrences(of: " (95% CI)", with: "").replacingOccurrences(of: "`", with: "")
                        if perModel[label] == nil {
                            perModel[label] = try CSVTable(top.appendingPathComponent(label).appendingPathComponent("metrics.csv"))
                        }
                        let metric = Checker.metricName(c[1])
                        let where_ = "models overview: \(label) \(c[0]) \(c[1])"
                        guard
                            let row = perModel[label]?.rows.first(where: {
                                $0["design"] == c[0] && $0["metric"] == metric && $0["attribute"] == "*" && $0["group"] == "*"
                            })
                        else {
                            checker.problem("\(where_): no overall row in \(label)/metrics.csv")
                            continue
                        }
                        checker.expectPercentCI(c[column], row, where_)
                        checker.count("models overview")
                    }
                }
            }
        }
        return checker.outcome
    }

    // MARK: CSV

    struct CSVTable {
        var header: [String]
        var rows: [[String: String]]

        /// An empty table when the file is absent (an audit without retrieval or associations).
        init(optional url: URL) throws {
            if FileManager.default.fileExists(atPath: url.path) {
                try self.init(url)
            } else {
                self.init(header: [], rows: [])
            }
        }

        init(header: [String], rows: [[String: String]]) {
            self.header = header
            self.rows = rows
        }

        init(_ url: URL) throws {
            let text = try String(contentsOf: url, encoding: .utf8)
            let records = Self.parse(text)
            let names = records.first ?? []
            header = names
            rows = records.dropFirst().filter { $0.count == names.count }.map { record in
                Dictionary(uniqueKeysWithValues: zip(names, record.map(Self.unprotect)))
            }
        }

        /// RFC 4180: commas, quoted cells with doubled quotes, LF or CRLF line ends.
        static func parse(_ text: String) -> [[String]] {
            var records: [[String]] = [], record: [String] = [], cell = ""
            var quoted = false, afterQuote = false
            for ch in text {
                if quoted {
                    if ch == "\"" { quoted = false; afterQuote = true } else { cell.append(ch) }
                    continue
                }
                switch ch {
                case "\"":
                    if afterQuote { cell.append("\"") }
                    quoted = true
                case ",": record.append(cell); cell = ""
                case "\n", "\r\n":
                    record.append(cell); cell = ""
                    records.append(record); record = []
                default: cell.append(ch)
                }
                afterQuote = false
            }
            if !cell.isEmpty || !record.isEmpty { record.append(cell); records.append(record) }
            return records
        }

        /// The contract's formula protection: a text cell starting with = + - @ TAB CR LF or '
        /// carries one leading '.
        static func unprotect(_ cell: String) -> String {
            guard cell.hasPrefix("'"), let second = cell.dropFirst().first, "=+-@\t\r\n'".contains(second) else { return cell }
            return String(cell.dropFirst())
        }
    }

    // MARK: Markdown

    struct Checker {
        let metrics, disparities, summary, comparison, retrieval, association: CSVTable
        var outcome = Outcome()
        var design = ""
        var variant = "", base = ""

        mutating func problem(_ text: String) { outcome.problems.append(text) }
        mutating func count(_ kind: String, _ n: Int = 1) { outcome.checked[kind, default: 0] += n }

        mutating func run(_ markdown: String) {
            let lines = markdown.components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                let line = lines[i]
                if line.hasPrefix("## Design `"), let name = Self.backticked(line).first {
                    design = name
                } else if line.hasPrefix("### `"), line.contains("` vs `") {
                    let names = Self.backticked(line)
                    if names.count == 2 { variant = names[0]; base = names[1] }
                } else if line.hasPrefix("|") {
                    var table: [String] = []
                    while i < lines.count && lines[i].hasPrefix("|") { table.append(lines[i]); i += 1 }
                    checkTable(table)
                    continue
                }
                i += 1
            }
        }

        static func backticked(_ line: String) -> [String] {
            line.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        }

        /// The cells of a table row; `\|` stays inside a cell and is unescaped.
        static func cells(_ line: String) -> [String] {
            var cells: [String] = [], cell = "", escaped = false
            for ch in line.dropFirst() {
                if escaped { cell.append(ch == "|" ? "|" : "\\\(ch)"); escaped = false; continue }
                if ch == "\\" { escaped = true; continue }
                if ch == "|" { cells.append(cell.trimmingCharacters(in: .whitespaces)); cell = "" } else { cell.append(ch) }
            }
            return cells
        }

        mutating func checkTable(_ lines: [String]) {
            guard lines.count >= 2 else { return }
            let header = Self.cells(lines[0])
            let rows = lines.dropFirst(2).map(Self.cells).filter { $0.count == header.count }
            if rows.count != lines.count - 2 { problem("a row of the table \(lines[0]) has the wrong number of cells") }
            switch header.first {
            case "design" where header.count > 5 && header[5] == "value": rows.forEach { flaggedRow($0) }
            case "design" where header.count > 2 && header[2].hasPrefix("all images"): rows.forEach { overviewRow($0) }
            case "slice": rows.forEach { gapRow($0) }
            case "metric" where header.contains("McNemar p (Holm)"): rows.forEach { variantRow($0) }
            case "retrieval by": rows.forEach { retrievalRow($0, header: header) }
            case "association": rows.forEach { associationRow($0) }
            default:
                if header.count >= 3 && header[1] == "n" && header[2].hasPrefix("accuracy") {
                    rows.forEach { accuracyRow($0, attribute: header[0]) }
                } else if header.count >= 3 && header[1] == "n" && header[2].hasSuffix("(95% CI)") {
                    rows.forEach { harmRow($0, header: header) }
                } else if !ReportFigures.figureFreeHeaders.contains(where: { lines[0].hasPrefix($0) }) {
                    problem("report.md has a table the cross-check does not know: \(lines[0])")
                }
            }
        }

        // MARK: Rows

        /// `| design | metric | attribute | group | reference | value | reference value | difference (95% CI) | ratio | p (Holm) | fares | flags |`
        mutating func flaggedRow(_ c: [String]) {
            let where_ = "flagged disparities: \(c[0]) \(c[1]) \(c[2]) \(c[3])"
            guard
                let row = disparities.rows.first(where: {
                    $0["design"] == c[0] && $0["metric"] == c[1] && $0["attribute"] == c[2] && $0["group"] == c[3]
                })
            else { return problem("\(where_): no such row in disparities.csv") }
            expectEqual(c[4], row["reference"], where_ + " reference")
            expectPercentWithN(c[5], value: row["value"], n: row["n"], where_ + " value")
            expectPercentWithN(c[6], value: row["reference_value"], n: row["reference_n"], where_ + " reference value")
            expectPP(c[7], value: row["difference"], low: row["diff_ci_low"], high: row["diff_ci_high"], where_ + " difference")
            expectRatio(c[8], row["ratio"], where_ + " ratio")
            expectP(c[9], row["p_adjusted"], where_ + " p")
            count("flagged disparities")
        }

        /// `| design | metric | all images (95% CI) | n | worst group ... | flagged ▲ worse | flagged ▼ better |`
        mutating func overviewRow(_ c: [String]) {
            // A variant whose outcomes are its base's has one line and no figure of its own.
            if c[1] == "every metric" { return }
            let metric = Self.metricName(c[1])
            let where_ = "overview: \(c[0]) \(c[1])"
            guard let all = metricRow(c[0], metric, "*", "*") else { return problem("\(where_): no overall row in metrics.csv") }
            expectPercentCI(c[2], all, where_)
            expectEqual(c[3], all["n"], where_ + " n")
            // `**Black × Female** (race × gender) 25.0% (n = 8)`
            let parts = c[4].components(separatedBy: "**")
            if parts.count >= 3 {
                let group = parts[1].replacingOccurrences(of: " × ", with: "|")
                let rest = parts[2]
                let attribute = rest.firstMatch(#"\(([^)]*)\)"#)?[1].replacingOccurrences(of: " × ", with: "|") ?? ""
                if let row = metricRow(c[0], metric, attribute, group) {
                    expectPercentWithN(rest, value: row["value"], n: row["n"], where_ + " worst group")
                } else {
                    problem("\(where_): worst group \(attribute) \(group) is not in metrics.csv")
                }
            }
            count("overview")
        }

        /// `| race | n | accuracy (95% CI) | vs reference | p (Holm) |` under `## Design `X``.
        mutating func accuracyRow(_ c: [String], attribute: String) {
            let group = Self.groupName(c[0])
            let where_ = "accuracy: \(design) \(attribute) \(group)"
            guard let row = metricRow(design, "accuracy", attribute, group) else { return problem("\(where_): not in metrics.csv") }
            expectEqual(c[1], row["n"], where_ + " n")
            expectPercentCI(c[2], row, where_)
            if c[3] == "reference" {
                if !disparities.rows.contains(where: { $0["design"] == design && $0["attribute"] == attribute && $0["reference"] == group })
                {
                    problem("\(where_): marked reference, but disparities.csv has another reference")
                }
            } else if let d = disparity(design, "accuracy", attribute, group) {
                expectPP(c[3], value: d["difference"], low: nil, high: nil, where_ + " vs reference")
                expectP(c[4], d["p_adjusted"], where_ + " p")
            } else {
                problem("\(where_): no disparity row")
            }
            count("accuracy")
        }

        /// `| race | n | non-human (95% CI) | crime-related (95% CI) | any (95% CI) |` (or `| set |`).
        mutating func harmRow(_ c: [String], header: [String]) {
            let all = header[0] == "set"
            let attribute = all ? "*" : header[0], group = all ? "*" : Self.groupName(c[0])
            for column in 2..<header.count {
                let category = header[column].replacingOccurrences(of: " (95% CI)", with: "")
                let metric = "harm_rate:\(category)"
                let where_ = "harm rates: \(design) \(metric) \(attribute) \(group)"
                guard let row = metricRow(design, metric, attribute, group) else {
                    problem("\(where_): not in metrics.csv")
                    continue
                }
                expectEqual(c[1], row["n"], where_ + " n")
                expectPercentCI(c[column], row, where_)
                count("harm rates")
            }
        }

        /// `| slice | measure | highest | lowest | gap (95% CI) | ratio |`
        mutating func gapRow(_ c: [String]) {
            let metric: String
            if c[1] == "accuracy" {
                metric = "accuracy"
            } else if c[1].hasPrefix("demographic parity") {
                metric = "demographic_parity"
            } else if c[1].hasPrefix("equalized odds") {
                metric = "equalized_odds"
            } else {
                metric = Self.metricName(c[1])
            }
            let where_ = "largest gaps: \(design) \(metric) \(c[0])"
            guard let row = summary.rows.first(where: { $0["design"] == design && $0["metric"] == metric && $0["attribute"] == c[0] })
            else { return problem("\(where_): not in summary.csv") }
            for (cell, group, value) in [(c[2], "max_group", "max_value"), (c[3], "min_group", "min_value")] {
                if !cell.hasPrefix(row[group] ?? "\u{0}") { problem("\(where_): \(cell) is not \(row[group] ?? "")") }
                expectPercentWithN(cell, value: row[value], n: nil, where_ + " " + value)
            }
            expectPP(c[4], value: row["difference"], low: row["diff_ci_low"], high: row["diff_ci_high"], where_ + " gap")
            expectRatio(c[5], row["ratio"], where_ + " ratio")
            count("largest gaps")
        }

        /// `| metric | attribute | group | n | base | variant | Δ (95% CI) | McNemar p (Holm) |`
        mutating func variantRow(_ c: [String]) {
            let group = Self.groupName(c[2])
            let where_ = "variant: \(variant) vs \(base) \(c[0]) \(c[1]) \(group)"
            let family = comparison.rows.filter {
                $0["design"] == variant && $0["base"] == base && $0["metric"] == c[0] && $0["attribute"] == c[1]
            }
            guard let index = family.firstIndex(where: { $0["group"] == group }) else { return problem("\(where_): not in comparison.csv") }
            let row = family[index]
            expectEqual(c[3], row["n"], where_ + " n")
            expectPercentWithN(c[4], value: row["base_value"], n: nil, where_ + " base")
            expectPercentWithN(c[5], value: row["value"], n: nil, where_ + " variant")
            expectPP(c[6], value: row["delta"], low: row["ci_low"], high: row["ci_high"], where_ + " delta")
            // comparison.csv keeps the unadjusted p; the report adjusts within variant × metric × attribute.
            let ps = family.map { Double($0["p_value"] ?? "") ?? .nan }
            if ps.contains(where: \.isNaN) {
                problem("\(where_): a p-value of its family is missing")
            } else {
                expectP(c[7], String(Self.holm(ps)[index]), where_ + " p (Holm)")
            }
            count("variant comparisons")
        }

        /// `| retrieval by | MaxSkew@3 (null) | … | queries beyond the null (Holm), k = 3/6 |`: the
        /// mean over queries (`*`, desired: dataset) and its null, two decimals.
        mutating func retrievalRow(_ c: [String], header: [String]) {
            for column in 1..<header.count {
                guard let k = header[column].firstMatch(#"^MaxSkew@(\d+) \(null\)$"#)?[1] else { continue }
                let where_ = "retrieval: \(c[0]) k=\(k)"
                guard
                    let row = retrieval.rows.first(where: {
                        $0["query"] == "*" && $0["attribute"] == c[0] && $0["k"] == k && $0["desired"] == "dataset"
                    })
                else {
                    problem("\(where_): no mean row in retrieval.csv")
                    continue
                }
                guard let m = c[column].firstMatch(#"^(-?\d+\.\d\d) \((-?\d+\.\d\d)\)$"#) else {
                    problem("\(where_): cannot read \(c[column])")
                    continue
                }
                expectRounded(m[1], row["max_skew"], scale: 1, digits: 2, where_ + " max skew")
                expectRounded(m[2], row["null_max_skew"], scale: 1, digits: 2, where_ + " null")
                count("retrieval")
            }
        }

        /// `| association | X vs Y | A vs B | effect size (95% CI) | p |`
        mutating func associationRow(_ c: [String]) {
            let test = c[0].replacingOccurrences(of: "`", with: "")
            let where_ = "association: \(test)"
            guard let row = association.rows.first(where: { $0["test"] == test }) else {
                return problem("\(where_): not in association.csv")
            }
            if let sizes = c[1].firstMatch(#"\((\d+), (\d+)\)"#) {
                expectEqual(sizes[1], row["n_x"], where_ + " n_x")
                expectEqual(sizes[2], row["n_y"], where_ + " n_y")
            } else {
                problem("\(where_): no sizes in \(c[1])")
            }
            guard let m = c[3].firstMatch(#"^(-?\d+\.\d\d) \[(-?\d+\.\d\d), (-?\d+\.\d\d)\]$"#) else {
                return problem("\(where_): cannot read \(c[3])")
            }
            expectRounded(m[1], row["effect_size"], scale: 1, digits: 2, where_ + " effect size")
            expectRounded(m[2], row["ci_low"], scale: 1, digits: 2, where_ + " ci_low")
            expectRounded(m[3], row["ci_high"], scale: 1, digits: 2, where_ + " ci_high")
            expectP(c[4], row["p_value"], where_ + " p")
            count("association")
        }

        // MARK: Lookups

        func metricRow(_ design: String, _ metric: String, _ attribute: String, _ group: String) -> [String: String]? {
            metrics.rows.first { $0["design"] == design && $0["metric"] == metric && $0["attribute"] == attribute && $0["group"] == group }
        }

        func disparity(_ design: String, _ metric: String, _ attribute: String, _ group: String) -> [String: String]? {
            disparities.rows.first {
                $0["design"] == design && $0["metric"] == metric && $0["attribute"] == attribute && $0["group"] == group
            }
        }

        /// `non-human rate` → `harm_rate:non-human`; `non-human or crime-related rate` → `harm_rate:any`.
        static func metricName(_ label: String) -> String {
            if label == "accuracy" { return "accuracy" }
            let name = label.hasSuffix(" rate") ? String(label.dropLast(5)) : label
            return name.contains(" or ") ? "harm_rate:any" : "harm_rate:\(name)"
        }

        /// A group cell without its small-group mark.
        static func groupName(_ cell: String) -> String {
            cell.replacingOccurrences(of: " †", with: "").trimmingCharacters(in: .whitespaces)
        }

        /// Holm's step-down adjustment, written here again so that the check does not reuse the
        /// code it checks.
        static func holm(_ p: [Double]) -> [Double] {
            let order = p.indices.sorted { (p[$0], $0) < (p[$1], $1) }
            var out = p, running = 0.0
            for (rank, i) in order.enumerated() {
                running = max(running, min(1, Double(p.count - rank) * p[i]))
                out[i] = running
            }
            return out
        }

        // MARK: Figures

        mutating func expectEqual(_ cell: String, _ value: String?, _ where_: String) {
            if cell != value { problem("\(where_): report shows \(cell), the CSV has \(value ?? "nothing")") }
        }

        /// `62.5% [38.6, 81.5]` against value, ci_low, ci_high.
        mutating func expectPercentCI(_ cell: String, _ row: [String: String], _ where_: String) {
            guard let m = cell.firstMatch(#"(-?\d+\.\d)% \[(-?\d+\.\d), (-?\d+\.\d)\]"#) else {
                return problem("\(where_): no rate with interval in \(cell)")
            }
            expectRounded(m[1], row["value"], scale: 100, digits: 1, where_ + " value")
            expectRounded(m[2], row["ci_low"], scale: 100, digits: 1, where_ + " ci_low")
            expectRounded(m[3], row["ci_high"], scale: 100, digits: 1, where_ + " ci_high")
        }

        /// `25.0% (n = 8)` against value and n (when given).
        mutating func expectPercentWithN(_ cell: String, value: String?, n: String?, _ where_: String) {
            guard let m = cell.firstMatch(#"(-?\d+\.\d)%"#) else { return problem("\(where_): no rate in \(cell)") }
            expectRounded(m[1], value, scale: 100, digits: 1, where_)
            if let n {
                if let shown = cell.firstMatch(#"n = (\d+)"#)?[1] {
                    expectEqual(shown, n, where_ + " n")
                } else {
                    problem("\(where_): no n in \(cell)")
                }
            }
        }

        /// `-62.5 pp [-83.1 pp, -13.9 pp]` against difference and its interval.
        mutating func expectPP(_ cell: String, value: String?, low: String?, high: String?, _ where_: String) {
            guard let m = cell.firstMatch(#"([+-]?\d+\.\d) pp"#) else { return problem("\(where_): no difference in \(cell)") }
            expectRounded(m[1], value, scale: 100, digits: 1, where_)
            guard low != nil || high != nil else { return }
            guard let ci = cell.firstMatch(#"\[([+-]?\d+\.\d) pp, ([+-]?\d+\.\d) pp\]"#) else {
                return problem("\(where_): no interval in \(cell)")
            }
            expectRounded(ci[1], low, scale: 100, digits: 1, where_ + " low")
            expectRounded(ci[2], high, scale: 100, digits: 1, where_ + " high")
        }

        mutating func expectRatio(_ cell: String, _ value: String?, _ where_: String) {
            // `—`, or `— (reference 0%)`: no ratio.
            if cell.hasPrefix("—") || cell.isEmpty {
                if let value, !value.isEmpty { problem("\(where_): report shows no ratio, the CSV has \(value)") }
                return
            }
            expectRounded(cell, value, scale: 1, digits: 2, where_)
        }

        /// `0.1057`, `0.0377 *` or `<0.0001` against a p-value.
        mutating func expectP(_ cell: String, _ value: String?, _ where_: String) {
            let shown = cell.replacingOccurrences(of: " *", with: "").trimmingCharacters(in: .whitespaces)
            if shown == "<0.0001" {
                if let v = value.flatMap(Double.init), v < 0.0001 { return }
                return problem("\(where_): report shows <0.0001, the CSV has \(value ?? "nothing")")
            }
            expectRounded(shown, value, scale: 1, digits: 4, where_)
        }

        /// The printed `shown` is `value × scale` rounded to `digits` decimals: within half a unit
        /// of the last digit, plus the CSV's own rounding (six significant digits), since the
        /// report rounds the full-precision value.
        mutating func expectRounded(_ shown: String, _ value: String?, scale: Double, digits: Int, _ where_: String) {
            guard let printed = Double(shown), let v = value.flatMap(Double.init) else {
                return problem("\(where_): cannot compare \(shown) with \(value ?? "nothing")")
            }
            let unit = pow(10, -Double(digits))
            if abs(printed - v * scale) > unit / 2 + 1e-5 * scale * max(1, abs(v)) {
                problem("\(where_): report shows \(shown), the CSV's \(v) rounds to \(String(format: "%.\(digits)f", v * scale))")
            }
        }
    }
}

extension String {
    /// The capture groups (0: the whole match) of the first match of `pattern`.
    fileprivate func firstMatch(_ pattern: String) -> [String]? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let m = regex.firstMatch(in: self, range: NSRange(startIndex..., in: self))
        else { return nil }
        return (0..<m.numberOfRanges).map { i in Range(m.range(at: i), in: self).map { String(self[$0]) } ?? "" }
    }
}
