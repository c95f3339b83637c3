import Foundation
import Testing

@testable import AuditEngine

@Suite struct SliceTests {
    /// The attribute column's text of each kind of slice, and reading it back.
    @Test func csvTextRoundTrips() {
        let cases: [(Slice, String)] = [
            (.all, "*"), (.attribute("race"), "race"), (.intersection(["race", "gender"]), "race|gender"),
            (.intersection(["race", "gender", "age"]), "race|gender|age")
        ]
        for (slice, text) in cases {
            #expect(slice.csvText == text)
            #expect(Slice(csvText: text) == slice)
        }
        #expect(Slice(attributes: []) == .all)
        #expect(Slice(attributes: ["age"]) == .attribute("age"))
        #expect(Slice(attributes: ["race", "gender"]).isIntersection)
        #expect(!Slice.attribute("race").isIntersection && !Slice.all.isIntersection)
    }

    /// Group text is made from one value per attribute and split back only when the count fits.
    @Test func groupTextAndValues() {
        let both = Slice.intersection(["race", "gender"])
        #expect(both.groupText(["White", "Male"]) == "White|Male")
        #expect(both.groupValues("White|Male") == ["White", "Male"])
        #expect(both.groupValues("White") == nil)
        #expect(both.groupValues("White|Male|0-2") == nil)
        #expect(Slice.all.groupText([]) == "*")
        #expect(Slice.all.groupValues("*") == [])
        #expect(Slice.all.groupValues("White") == nil)
        // One attribute's value is its group whole, whatever it contains.
        #expect(Slice.attribute("race").groupText(["White"]) == "White")
        #expect(Slice.attribute("race").groupValues("a|b") == ["a|b"])
    }

    /// An audit's slices: its attributes, then its intersections, in the file's order.
    @Test func configSlicesKeepTheFilesOrder() {
        let config = AuditConfig(
            name: "slices", manifest: ManifestSettings(path: URL(fileURLWithPath: "/data/m.csv"), imageRoot: URL(fileURLWithPath: "/data")),
            attributes: ["race", "gender", "age"], intersections: [["gender", "race"], ["race", "age"]],
            designs: [], sourceFile: URL(fileURLWithPath: "/audits/slices.yaml"))
        #expect(
            config.slices == [
                .attribute("race"), .attribute("gender"), .attribute("age"),
                .intersection(["gender", "race"]), .intersection(["race", "age"])
            ])
        #expect(config.slices.map(\.csvText) == ["race", "gender", "age", "gender|race", "race|age"])
    }
}
