import Foundation

/// The rows an audit scores, in file order, held compactly: per row its manifest line, its file
/// path (packed with the others) and an interned id per attribute and target column. A
/// ``UsableRow`` is made when one is read, so a run over a million rows holds no `String`,
/// `Dictionary` or `URL` per row.
public struct UsableRows: RandomAccessCollection, Sendable {
    /// The folder the file paths are relative to.
    public let imageRoot: URL
    /// The attribute columns, in the audit file's order.
    public let attributes: [String]
    /// The target columns of the designs, each once, in design order.
    public let targets: [String]
    /// The id a row has in a column where it has no value (only tables built in memory have
    /// such rows: a manifest row with an empty value is skipped).
    public static let noValue = UInt32.max

    private var lines: [Int32] = []
    private var files = PackedStrings()
    /// One pool per column: the attributes, then the targets.
    private(set) var pools: [StringPool]
    /// Row-major: row `r`'s id in column `c` is at `r * columnCount + c`.
    private var ids: [UInt32] = []

    /// An empty table with these columns.
    public init(imageRoot: URL, attributes: [String], targets: [String]) {
        self.imageRoot = imageRoot
        self.attributes = attributes
        self.targets = targets
        pools = Array(repeating: StringPool(), count: attributes.count + targets.count)
    }

    var columnCount: Int { pools.count }

    public var startIndex: Int { 0 }
    public var endIndex: Int { lines.count }

    /// The row, made from its stored parts.
    public subscript(index: Int) -> UsableRow {
        func values(_ names: [String], from column: Int) -> [String: String] {
            var out: [String: String] = [:]
            for (offset, name) in names.enumerated() {
                if let value = value(row: index, column: column + offset) { out[name] = value }
            }
            return out
        }
        return UsableRow(
            line: line(index), file: files[index], imageURL: imageURL(index),
            attributes: values(attributes, from: 0), targets: values(targets, from: attributes.count))
    }

    /// The manifest line where row `index` starts.
    public func line(_ index: Int) -> Int { Int(lines[index]) }

    /// Row `index`'s path as written in the file column.
    public func file(_ index: Int) -> String { files[index] }

    /// Row `index`'s image file, as ``RowChecker`` located it.
    public func imageURL(_ index: Int) -> URL { RowChecker.imageURL(root: imageRoot, path: files[index]) }

    /// Row `index`'s id in `column` (attributes first, then targets), or ``noValue``.
    func id(row index: Int, column: Int) -> UInt32 { ids[index * columnCount + column] }

    /// Row `index`'s value in `column` (attributes first, then targets).
    func value(row index: Int, column: Int) -> String? {
        let id = id(row: index, column: column)
        return id == Self.noValue ? nil : pools[column][id]
    }

    /// The values of `column`, indexed by id.
    func values(column: Int) -> [String] { pools[column].values }

    /// Rows grouped by their values in some columns: the groups of an attribute or intersection.
    struct Grouping {
        /// Per row: its group, or -1 when it is left out (not included, or without a value).
        var groupOfRow: [Int32]
        /// Per group, in order of first appearance: its ids in the columns.
        var groups: [[UInt32]]
        /// Per group: its rows.
        var sizes: [Int]
    }

    /// Groups the rows that `include` accepts by their ids in `columns` (no columns: one group).
    func grouping(columns: [Int], including include: (Int) -> Bool = { _ in true }) -> Grouping {
        var result = Grouping(groupOfRow: Array(repeating: -1, count: count), groups: [], sizes: [])
        var index: [[UInt32]: Int32] = [:]
        var key = [UInt32](repeating: 0, count: columns.count)
        rows: for row in 0..<count where include(row) {
            for (position, column) in columns.enumerated() {
                let id = id(row: row, column: column)
                if id == Self.noValue { continue rows }
                key[position] = id
            }
            let group: Int32
            if let known = index[key] {
                group = known
            } else {
                group = Int32(result.groups.count)
                index[key] = group
                result.groups.append(key)
                result.sizes.append(0)
            }
            result.groupOfRow[row] = group
            result.sizes[Int(group)] += 1
        }
        return result
    }

    /// A group's values (ids in `columns`, as ``grouping(columns:including:)`` gives them).
    func values(of group: [UInt32], columns: [Int]) -> [String] {
        zip(group, columns).map { pools[$1][$0] }
    }

    /// Adds a row: its value in each column (attributes, then targets); nil gets ``noValue``.
    mutating func append(line: Int, file: String, values: [String?]) {
        precondition(values.count == columnCount)
        guard let line = Int32(exactly: line) else { preconditionFailure("manifest line \(line) is past Int32") }
        lines.append(line)
        files.append(file)
        for (column, value) in values.enumerated() {
            ids.append(value.map { pools[column].intern($0) } ?? Self.noValue)
        }
    }

    /// Adds a row that ``RowChecker`` found usable.
    mutating func append(_ row: UsableRow) {
        append(line: row.line, file: row.file, values: values(of: row))
    }

    /// True when `row` has the same attribute and target values as row `index`.
    func hasSameValues(_ row: UsableRow, as index: Int) -> Bool {
        values(of: row).enumerated().allSatisfy { column, value in
            let stored = id(row: index, column: column)
            guard let value else { return stored == Self.noValue }
            return pools[column].id(of: value) == stored
        }
    }

    private func values(of row: UsableRow) -> [String?] {
        attributes.map { row.attributes[$0] } + targets.map { row.targets[$0] }
    }
}
