import CLIPEngine
import Foundation

/// A design both runs have by name whose definition differs between them.
public struct DesignChange: Sendable, Equatable {
    public var design: String
    /// How run B's design differs from run A's (`classes differ (7 in A, 21 in B; …)`).
    public var differences: [String]
}
