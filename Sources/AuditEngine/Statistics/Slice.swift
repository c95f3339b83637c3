/// Which rows a result row is about: the whole set, the groups of one attribute, or the groups
/// of an intersection of attributes.
///
/// Result rows carry a slice (their `attribute`, a `Slice`) and a group of it as text (`*`,
/// `White`, `White|Male`). In the CSVs the slice is the `attribute` column (`*`, `race`,
/// `race|gender`): that text is made here (``csvText``, ``groupText(_:)``) and taken apart here
/// (``init(csvText:)``, ``groupValues(_:)``), by the CSV codec only; every other part of
/// clip-audit asks the type (`row.attribute == .all`, `isIntersection`).
public enum Slice: Hashable, Sendable, CustomStringConvertible {
    /// Every row (`*`), one group.
    case all
    /// The groups of one attribute column.
    case attribute(String)
    /// The groups of two or more attribute columns together, in the order the audit lists them.
    case intersection([String])

    /// What joins an intersection's attributes (`race|gender`) and its groups' values
    /// (`White|Male`). The audit file may not use it in an attribute's name.
    public static let separator = "|"
    /// The text of the whole set, as its attribute and as its only group.
    public static let allText = "*"

    /// The slice over `attributes`: none is the whole set, one an attribute, more an intersection.
    public init(attributes: [String]) {
        switch attributes.count {
        case 0: self = .all
        case 1: self = .attribute(attributes[0])
        default: self = .intersection(attributes)
        }
    }

    /// Parses an `attribute` column: `*`, an attribute, or attributes joined by ``separator``.
    public init(csvText text: String) {
        self =
            text == Self.allText
            ? .all
            : Slice(attributes: text.split(separator: Self.separator, omittingEmptySubsequences: false).map(String.init))
    }

    /// The text of the `attribute` column: `*`, `race` or `race|gender`.
    public var csvText: String {
        switch self {
        case .all: return Self.allText
        case .attribute(let name): return name
        case .intersection(let names): return names.joined(separator: Self.separator)
        }
    }

    public var description: String { csvText }

    /// The attribute columns whose values make a group: none for the whole set.
    public var attributes: [String] {
        switch self {
        case .all: return []
        case .attribute(let name): return [name]
        case .intersection(let names): return names
        }
    }

    /// Whether this is an intersection of several attributes.
    public var isIntersection: Bool {
        if case .intersection = self { return true }
        return false
    }

    /// The text of the group whose values (one per attribute, in order) are `values`: `*` for
    /// the whole set, `White`, or `White|Male` for an intersection.
    public func groupText(_ values: [String]) -> String {
        self == .all ? Self.allText : values.joined(separator: Self.separator)
    }

    /// The values of a group's text, one per attribute (`[]` for the whole set); nil when the
    /// text has another number of values than the slice has attributes.
    public func groupValues(_ text: String) -> [String]? {
        switch self {
        case .all: return text == Self.allText ? [] : nil
        case .attribute: return [text]
        case .intersection: break
        }
        let values = text.split(separator: Self.separator, omittingEmptySubsequences: false).map(String.init)
        return values.count == attributes.count ? values : nil
    }
}
