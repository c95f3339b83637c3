import Foundation

/// Renders `report.html`: one self-contained page with the content of `report.md` (rendered
/// from the same Markdown, so the two cannot drift apart) — the findings first — and then the
/// content of `details.md` in collapsible sections, closed. Charts inline as SVG, inline CSS and
/// a few lines of inline script (click a column header to sort a table); nothing is loaded from anywhere.
public enum HTMLReport {
    public static func render(markdown: String, details: String = "", charts: [ChartFile], data: AuditReport) -> String {
        let chartsByPath = Dictionary(charts.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var body = MarkdownHTML.convert(markdown) { path in chartsByPath[path] }
        if !details.isEmpty { body += folded(details, charts: chartsByPath) }
        return page(title: "Bias audit: \(data.name)", body: body)
    }

    /// `details.md` as closed `<details>` sections, one per `##` heading (its `#` title and
    /// opening paragraph become the heading of the part).
    static func folded(_ details: String, charts: [String: ChartFile]) -> String {
        var sections: [(title: String, lines: [String])] = []
        for line in details.components(separatedBy: "\n") {
            if line.hasPrefix("## ") {
                sections.append((String(line.dropFirst(3)), []))
            } else if !sections.isEmpty {
                sections[sections.count - 1].lines.append(line)
            }
        }
        guard !sections.isEmpty else { return "" }
        var html =
            "<h2 id=\"details\">Details</h2>\n<p>The evidence behind the tables above (also in <code>details.md</code>); click a section to open it.</p>\n"
        for section in sections {
            html += "<details class=\"fold\">\n<summary>\(MarkdownHTML.inline(section.title))</summary>\n"
            // Headings inside a fold sit one level lower than the fold's own.
            let body = section.lines.map { $0.hasPrefix("### ") ? "#" + $0 : $0 }.joined(separator: "\n")
            html += MarkdownHTML.convert(body) { charts[$0] }
            html += "</details>\n"
        }
        return html
    }

    /// A whole self-contained page around `body` (HTML), with the shared style and script.
    public static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <main>
        \(body)</main>
        <script>
        \(script)
        </script>
        </body>
        </html>

        """
    }

    static func escape(_ s: String) -> String { MarkdownHTML.escape(s) }

    static let css = """
        :root { color-scheme: light; }
        body { margin: 0; background: #FFFFFF; color: #1A1A1A; font: 15px/1.45 "DejaVu Sans", Verdana, Arial, Helvetica, sans-serif; }
        main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
        h1 { font-size: 26px; margin: 8px 0 12px; }
        h2 { font-size: 21px; margin: 32px 0 8px; border-bottom: 2px solid #E0E0E0; padding-bottom: 4px; }
        h3 { font-size: 17px; margin: 24px 0 8px; }
        code { background: #F2F2F2; padding: 0 3px; border-radius: 3px; font-size: 13px; }
        .table-wrap { overflow-x: auto; margin: 8px 0 16px; }
        table { border-collapse: collapse; font-size: 13px; }
        th, td { border: 1px solid #D0D0D0; padding: 3px 8px; vertical-align: top; }
        th { background: #EEF3F8; cursor: pointer; user-select: none; white-space: nowrap; }
        th[aria-sort="ascending"]::after { content: " ▲"; }
        th[aria-sort="descending"]::after { content: " ▼"; }
        td.num, th.num { text-align: right; }
        tbody tr:nth-child(even) { background: #FAFAFA; }
        figure { margin: 8px 0 20px; }
        figure svg { max-width: 100%; height: auto; border: 1px solid #E6E6E6; }
        h2#findings { border-bottom-color: #D55E00; }
        h2#findings + ul { background: #FFF9F3; border-left: 4px solid #D55E00; padding: 8px 12px 8px 30px; margin: 8px 0 12px; }
        h2#findings + ul li { margin: 4px 0; }
        .worse { color: #B34700; font-weight: bold; }
        .better { color: #00704F; font-weight: bold; }
        details.fold { border: 1px solid #D0D0D0; border-radius: 4px; margin: 6px 0; padding: 0 12px; }
        details.fold > summary { cursor: pointer; font-size: 16px; font-weight: bold; padding: 6px 0; }
        details.fold[open] > summary { border-bottom: 1px solid #E0E0E0; margin-bottom: 8px; }
        """

    static let script = """
        (function () {
          function key(cell) {
            var text = (cell ? cell.textContent : '').trim().replace(/^</, '');
            var match = text.match(/^[+\\-−]?\\d+(\\.\\d+)?/);
            return match ? parseFloat(match[0].replace('−', '-')) : text.toLowerCase();
          }
          document.querySelectorAll('table').forEach(function (table) {
            if (!table.tHead || !table.tBodies.length) return;
            var headers = table.tHead.rows[0].cells;
            Array.prototype.forEach.call(headers, function (th, column) {
              th.title = 'Click to sort';
              th.addEventListener('click', function () {
                var ascending = th.getAttribute('aria-sort') !== 'ascending';
                Array.prototype.forEach.call(headers, function (h) { h.removeAttribute('aria-sort'); });
                th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
                var body = table.tBodies[0];
                var rows = Array.prototype.slice.call(body.rows).map(function (row, index) { return [row, index]; });
                rows.sort(function (a, b) {
                  var x = key(a[0].cells[column]), y = key(b[0].cells[column]);
                  var c = (typeof x === 'number' && typeof y === 'number') ? x - y
                        : (typeof x === 'number' ? -1 : (typeof y === 'number' ? 1 : x.localeCompare(y)));
                  if (c === 0) c = a[1] - b[1];
                  return ascending ? c : -c;
                });
                rows.forEach(function (pair) { body.appendChild(pair[0]); });
              });
            });
          });
        })();
        """
}
