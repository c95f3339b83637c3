import Foundation

/// Converts the Markdown subset `MarkdownReport` writes (headings, paragraphs, `- ` lists, pipe
/// tables, `**bold**`, `` `code` ``, and `![alt](charts/x.svg)` lines) to HTML. Images become
/// the chart's SVG inline.
enum MarkdownHTML {
    static func convert(_ markdown: String, chart: (String) -> ChartFile?) -> String {
        let lines = markdown.components(separatedBy: "\n")
        var html = ""
        var i = 0
        var paragraph: [String] = []
        func flushParagraph() {
            if !paragraph.isEmpty { html += "<p>" + paragraph.map(inline).joined(separator: "\n") + "</p>\n" }
            paragraph = []
        }
        while i < lines.count {
            let line = lines[i]
            if line.trimmingCharacters(in: .whitespaces).isEmpty { flushParagraph(); i += 1; continue }
            if let level = headingLevel(line) {
                flushParagraph()
                let text = String(line.dropFirst(level + 1))
                html += "<h\(level) id=\"\(ChartStyle.slug(text))\">\(inline(text))</h\(level)>\n"
                i += 1
                continue
            }
            if line.hasPrefix("!["), let close = line.range(of: "]("), line.hasSuffix(")") {
                flushParagraph()
                let alt = String(line[line.index(line.startIndex, offsetBy: 2)..<close.lowerBound])
                let path = String(line[close.upperBound..<line.index(before: line.endIndex)])
                if let chart = chart(path) {
                    html += "<figure class=\"chart\" data-chart=\"\(escape(path))\">\n\(chart.svg)</figure>\n"
                } else {
                    html += "<p><img src=\"\(escape(path))\" alt=\"\(escape(plain(alt)))\"></p>\n"
                }
                i += 1
                continue
            }
            if line.hasPrefix("|") {
                flushParagraph()
                var block: [String] = []
                while i < lines.count && lines[i].hasPrefix("|") { block.append(lines[i]); i += 1 }
                html += table(block)
                continue
            }
            if line.hasPrefix("- ") {
                flushParagraph()
                html += "<ul>\n"
                while i < lines.count && lines[i].hasPrefix("- ") {
                    html += "<li>\(inline(String(lines[i].dropFirst(2))))</li>\n"
                    i += 1
                }
                html += "</ul>\n"
                continue
            }
            paragraph.append(line)
            i += 1
        }
        flushParagraph()
        return html
    }

    static func headingLevel(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).hasPrefix(" ") else { return nil }
        return hashes
    }

    /// A pipe table: header, alignment rule, rows. `\|` inside a cell is a literal bar (also in
    /// code, as in GFM); any other backslash pair is kept for ``inline(_:)``, so `\\|` is an
    /// escaped backslash followed by the end of the cell.
    static func table(_ block: [String]) -> String {
        guard block.count >= 2 else { return "<p>\(block.map(inline).joined(separator: "<br>"))</p>\n" }
        let header = cells(block[0])
        let rule = cells(block[1])
        let numeric = rule.map { $0.hasSuffix(":") && !$0.hasPrefix(":") }
        func cls(_ i: Int) -> String { i < numeric.count && numeric[i] ? " class=\"num\"" : "" }
        var html = "<div class=\"table-wrap\"><table>\n<thead><tr>"
        for (i, cell) in header.enumerated() { html += "<th\(cls(i)) scope=\"col\">\(inline(cell))</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for line in block.dropFirst(2) {
            html += "<tr>"
            for (i, cell) in cells(line).enumerated() { html += "<td\(cls(i))>\(inline(cell))</td>" }
            html += "</tr>\n"
        }
        html += "</tbody>\n</table></div>\n"
        return html
    }

    static func cells(_ line: String) -> [String] {
        var out: [String] = []
        var current = ""
        var chars = Array(line.trimmingCharacters(in: .whitespaces))
        if chars.first == "|" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count {
                if chars[i + 1] == "|" { current.append("|") } else { current.append(c); current.append(chars[i + 1]) }
                i += 2
                continue
            }
            if c == "|" {
                out.append(current.trimmingCharacters(in: .whitespaces)); current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { out.append(current.trimmingCharacters(in: .whitespaces)) }
        return out
    }

    /// Inline Markdown: code spans (their text is literal), bold (`**` pairs within the text
    /// between code spans), the backslash escapes and the `&lt;` `&gt;` `&amp;` entities that
    /// ``MarkdownEscape`` writes; everything else is text, HTML-escaped.
    static func inline(_ text: String) -> String {
        colourDirections(inlineMarkup(text))
    }

    /// The direction words in a colour (as well as in words): `▲ worse`, `▼ better`. The markers
    /// are not ASCII, so a user's label holding them is only coloured, never re-interpreted.
    static func colourDirections(_ html: String) -> String {
        guard html.contains("▲") || html.contains("▼") else { return html }
        return html.replacingOccurrences(of: Findings.worse, with: "<span class=\"worse\">\(Findings.worse)</span>")
            .replacingOccurrences(of: Findings.better, with: "<span class=\"better\">\(Findings.better)</span>")
    }

    static func inlineMarkup(_ text: String) -> String {
        var out = ""
        // The text since the last code span: literal pieces, split where an unescaped `**` is.
        var pieces: [String] = [""]
        func flushText() {
            if pieces.count >= 3 {
                for (i, piece) in pieces.enumerated() {
                    // An unpaired last `**` stays as it is.
                    if i == pieces.count - 1 && i % 2 == 1 { out += "**" + escape(piece); break }
                    out += i % 2 == 1 ? "<strong>\(escape(piece))</strong>" : escape(piece)
                }
            } else {
                out += escape(pieces.joined(separator: "**"))
            }
            pieces = [""]
        }
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count, let next = chars[i + 1].unicodeScalars.first,
                chars[i + 1].unicodeScalars.count == 1, next.isASCII, isPunctuation(next)
            {
                pieces[pieces.count - 1].append(chars[i + 1])
                i += 2
            } else if c == "`", let close = chars[(i + 1)...].firstIndex(of: "`") {
                flushText()
                out += "<code>\(escape(String(chars[(i + 1)..<close])))</code>"
                i = close + 1
            } else if c == "[", let (target, label, length) = link(chars, at: i) {
                // The report's links to its own files (user text never has a bare `[`: it is
                // escaped); in the page they point at the part that holds the file's content.
                flushText()
                out += "<a href=\"\(target)\">\(escape(label))</a>"
                i += length
            } else if c == "*", i + 1 < chars.count, chars[i + 1] == "*" {
                pieces.append("")
                i += 2
            } else if c == "&", let (decoded, length) = entity(chars, at: i) {
                pieces[pieces.count - 1].append(decoded)
                i += length
            } else {
                pieces[pieces.count - 1].append(c)
                i += 1
            }
        }
        flushText()
        return out
    }

    /// The links the reports write between their files: `[details.md](details.md)` → `#details`,
    /// `[report.md](report.md)` → `#` (the top), `[L/report.md](L/report.md)` → `L/report.html`;
    /// with the label and the link's length.
    static func link(_ chars: [Character], at i: Int) -> (target: String, label: String, length: Int)? {
        for (file, target) in [(MarkdownReport.detailsName, "#details"), ("report.md", "#")] {
            let markdown = Array("[\(file)](\(file))")
            if i + markdown.count <= chars.count && Array(chars[i..<(i + markdown.count)]) == markdown {
                return (target, file, markdown.count)
            }
        }
        // A several-model top report's link to a model's own report, `[L/report.md](L/report.md)`
        // with L a model label: in the page, to that model's page.
        var end = i + 1
        while end < chars.count, chars[end] != "/", end - i <= 64 { end += 1 }
        let label = String(chars[(i + 1)..<min(end, chars.count)])
        guard ModelsFolder.isValidLabel(label) else { return nil }
        let markdown = Array("[\(label)/report.md](\(label)/report.md)")
        guard i + markdown.count <= chars.count,
            Array(chars[i..<(i + markdown.count)]) == markdown
        else { return nil }
        return ("\(label)/report.html", "\(label)/report.html", markdown.count)
    }

    /// Markdown text as plain text: escapes and entities decoded, nothing else interpreted.
    static func plain(_ text: String) -> String {
        var out = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\", i + 1 < chars.count, let next = chars[i + 1].unicodeScalars.first,
                chars[i + 1].unicodeScalars.count == 1, next.isASCII, isPunctuation(next)
            {
                out.append(chars[i + 1]); i += 2
            } else if chars[i] == "&", let (decoded, length) = entity(chars, at: i) {
                out.append(decoded); i += length
            } else {
                out.append(chars[i]); i += 1
            }
        }
        return out
    }

    /// CommonMark's backslash-escapable characters: ASCII punctuation.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        (0x21...0x2F).contains(scalar.value) || (0x3A...0x40).contains(scalar.value)
            || (0x5B...0x60).contains(scalar.value) || (0x7B...0x7E).contains(scalar.value)
    }

    /// The entities ``MarkdownEscape`` writes, at `i`: the character and the entity's length.
    static func entity(_ chars: [Character], at i: Int) -> (Character, Int)? {
        for (name, character) in [("&amp;", Character("&")), ("&lt;", "<"), ("&gt;", ">")] {
            let length = name.count
            if i + length <= chars.count && String(chars[i..<(i + length)]) == name { return (character, length) }
        }
        return nil
    }

    /// HTML text and attribute escaping: the SVG builder's attribute escaping, which covers both
    /// (quotes, apostrophes, line breaks, characters XML forbids) since the SVGs sit inline.
    static func escape(_ s: String) -> String {
        SVGDocument.escapeAttribute(s)
    }
}
