// CYaml is Yams' copy of libyaml (a module of the Yams package, pinned in Package.resolved): its
// event parser is the only way to see aliases before Yams composes the document.
import CYaml
import Foundation

/// A bound on how much YAML aliases may expand an audit file, checked on libyaml's event stream
/// before the document is composed.
///
/// Yams composes an alias as the node it names, so nine levels of nine aliases ("billion laughs")
/// compose at once but stand for 9⁹ nodes: every walk over the tree (the control-character check,
/// hashing a mapping key while looking for duplicates) then takes minutes. Aliases are useful
/// (one template list reused by several designs), so they are not refused; what they add is
/// counted instead. Each anchored node's size (itself and everything below it, aliases counted at
/// their own size) is known when it ends; an alias adds the size of the node it names. When the
/// total added by aliases passes ``limit`` the file is refused at the alias that passed it.
enum YAMLAliasBudget {
    /// The most nodes aliases may add to a document: a real audit file reuses a few lists of a
    /// few dozen nodes, and 100,000 keeps every walk over the composed tree well under a second.
    static let limit = 100_000

    /// Where aliases first add more than `limit` nodes: the alias's 1-based line and name; nil
    /// when they stay within it. Text libyaml cannot parse gives nil here: composing it reports
    /// the YAML error with its line.
    static func excess(in yaml: String, limit: Int = limit) -> (line: Int, alias: String)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, alias: String)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Open collections: the anchor each was given and the nodes counted in it so far.
            var open: [(anchor: String?, size: Int)] = []
            var sizes: [String: Int] = [:]
            var added = 0
            func close(_ anchor: String?, _ size: Int) {
                // A later anchor of the same name shadows the earlier one, as in Yams.
                if let anchor { sizes[anchor] = size }
                if !open.isEmpty { open[open.count - 1].size = min(open[open.count - 1].size + size, limit + 1) }
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    close(name(event.data.scalar.anchor), 1)
                case YAML_SEQUENCE_START_EVENT:
                    open.append((name(event.data.sequence_start.anchor), 1))
                case YAML_MAPPING_START_EVENT:
                    open.append((name(event.data.mapping_start.anchor), 1))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    if let last = open.popLast() { close(last.anchor, last.size) }
                case YAML_ALIAS_EVENT:
                    let alias = name(event.data.alias.anchor) ?? ""
                    // An undefined alias is Yams' error to report.
                    let size = sizes[alias] ?? 1
                    added += size
                    if added > limit { return (Int(event.start_mark.line) + 1, alias) }
                    close(nil, size)
                default:
                    break
                }
            }
        }
    }

    private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
}
