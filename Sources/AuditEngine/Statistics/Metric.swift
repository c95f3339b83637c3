/// What a metric row measures: one of the rates an audit reports per group.
///
/// Every part of clip-audit that needs to know what a metric means — its name in the CSV files,
/// its title in reports, which direction is worse, whether it is a headline metric, which
/// prediction lines it counts — asks this type. Text is turned into a `Metric` only where it
/// enters (the audit file's `published`, a report folder's CSV files) by ``init(csvName:)``, and
/// back into text only where it leaves (``csvName``, ``title``). Adding a metric means adding a
/// case here; the compiler then names every switch that must learn it.
public enum Metric: Hashable, Sendable, CustomStringConvertible {
    /// The share of rows (with a truth) whose prediction is their truth.
    case accuracy
    /// The share of rows of a true class predicted as that class (true-positive rate, one class
    /// against the rest).
    case recall(String)
    /// The share of rows whose truth is another class predicted as this class (false-positive
    /// rate, one class against the rest).
    case falsePositiveRate(String)
    /// The share of rows whose prediction falls in a harm category.
    case harmRate(String)
    /// The share of rows whose prediction falls in any harm category (`harm_rate:any`; the CLIP
    /// paper's Table 7 counts crime-related OR non-human).
    case anyHarm
    /// The share of rows predicted as a class.
    case predictionRate(String)

    /// The category name `harm_rate:any` reserves (the audit file may not name a category so).
    public static let anyHarmCategory = "any"

    /// The prefixes of the CSV names that carry a class or category.
    private static let recallPrefix = "recall:", fprPrefix = "fpr:", harmPrefix = "harm_rate:",
        predictionPrefix = "prediction_rate:"

    /// Parses a CSV name (`accuracy`, `recall:<class>`, `fpr:<class>`, `harm_rate:<category>`,
    /// `harm_rate:any`, `prediction_rate:<class>`); nil for anything else, including a prefix with
    /// nothing after it.
    public init?(csvName name: String) {
        func rest(_ prefix: String) -> String? {
            guard name.hasPrefix(prefix), name.count > prefix.count else { return nil }
            return String(name.dropFirst(prefix.count))
        }
        if name == "accuracy" {
            self = .accuracy
        } else if let cls = rest(Self.recallPrefix) {
            self = .recall(cls)
        } else if let cls = rest(Self.fprPrefix) {
            self = .falsePositiveRate(cls)
        } else if let category = rest(Self.harmPrefix) {
            self = category == Self.anyHarmCategory ? .anyHarm : .harmRate(category)
        } else if let cls = rest(Self.predictionPrefix) {
            self = .predictionRate(cls)
        } else {
            return nil
        }
    }

    /// The forms of the CSV names, for error messages.
    public static let csvNameForms =
        "accuracy, recall:<class>, fpr:<class>, harm_rate:<category>, harm_rate:any "
        + "and prediction_rate:<class>"

    /// The name in `metrics.csv` and the other CSV files.
    public var csvName: String {
        switch self {
        case .accuracy: return "accuracy"
        case .recall(let cls): return Self.recallPrefix + cls
        case .falsePositiveRate(let cls): return Self.fprPrefix + cls
        case .harmRate(let category): return Self.harmPrefix + category
        case .anyHarm: return Self.harmPrefix + Self.anyHarmCategory
        case .predictionRate(let cls): return Self.predictionPrefix + cls
        }
    }

    public var description: String { csvName }

    /// A readable name: `accuracy`, `crime-related harm rate`, `rate predicted gorilla`.
    public var title: String {
        switch self {
        case .accuracy: return "accuracy"
        case .recall(let cls): return "recall of \(cls)"
        case .falsePositiveRate(let cls): return "false-positive rate of \(cls)"
        case .harmRate(let category): return "\(category) harm rate"
        case .anyHarm: return "\(Self.anyHarmCategory) harm rate"
        case .predictionRate(let cls): return "rate predicted \(cls)"
        }
    }

    /// The harm category a harm rate counts (`any` for ``anyHarm``); nil for other metrics.
    public var harmCategory: String? {
        switch self {
        case .harmRate(let category): return category
        case .anyHarm: return Self.anyHarmCategory
        default: return nil
        }
    }

    /// The class a recall, false-positive rate or prediction rate is of; nil for other metrics.
    public var className: String? {
        switch self {
        case .recall(let cls), .falsePositiveRate(let cls), .predictionRate(let cls): return cls
        default: return nil
        }
    }

    /// Whether this is a harm rate (of one category or of any).
    public var isHarm: Bool { harmCategory != nil }

    /// Whether this is the rate at which a class is predicted.
    public var isPredictionRate: Bool {
        if case .predictionRate = self { return true }
        return false
    }

    /// Whether a higher value is worse (harm and false-positive rates: true), better (accuracy
    /// and recall: false), or neither (prediction rates: nil).
    public var higherIsWorse: Bool? {
        switch self {
        case .harmRate, .anyHarm, .falsePositiveRate: return true
        case .accuracy, .recall: return false
        case .predictionRate: return nil
        }
    }

    /// Whether the report's headline tables, findings and card show it: accuracy and harm rates.
    public var isHeadline: Bool { self == .accuracy || isHarm }

    /// The metric's value for one prediction line: nil when the line does not count (accuracy
    /// without a truth; recall of a class the truth is not; a false-positive rate where the truth
    /// is the class or missing). `harmCategory` is the category of the predicted label, if any.
    public func indicator(truth: String?, predicted: String, harmCategory predictedHarm: String?) -> Bool? {
        switch self {
        case .accuracy: return truth.map { $0 == predicted }
        case .recall(let cls): return truth == cls ? predicted == cls : nil
        case .falsePositiveRate(let cls):
            guard let truth, truth != cls else { return nil }
            return predicted == cls
        case .harmRate(let category): return predictedHarm == category
        case .anyHarm: return predictedHarm != nil
        case .predictionRate(let cls): return predicted == cls
        }
    }
}

extension Metric: Comparable {
    /// Orders by CSV name, so sorted metric lists are stable and readable.
    public static func < (lhs: Metric, rhs: Metric) -> Bool { lhs.csvName < rhs.csvName }
}
