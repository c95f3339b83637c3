import Foundation
import Testing

@testable import AuditEngine

/// The chart of gap change against accuracy change: the Pareto front, and every point in words.
@Suite struct MitigationChartTests {
    @Test func theFrontHoldsThePointsNoOtherBeatsOnBothAxes() {
        let points = [
            MitigationChart.Point(label: "a", gapChange: -0.05, accuracyChange: -0.01),
            MitigationChart.Point(label: "b", gapChange: -0.02, accuracyChange: 0.00),
            MitigationChart.Point(label: "c", gapChange: -0.01, accuracyChange: -0.02), // beaten by a and b
            MitigationChart.Point(label: "d", gapChange: -0.05, accuracyChange: -0.03), // ties a on the gap, costs more
            MitigationChart.Point(label: "e", gapChange: 0.01, accuracyChange: 0.01)
        ]
        #expect(MitigationChart.front(points) == [0, 1, 4])
        let svg = MitigationChart.render(points, title: "t", subtitle: "s")
        #expect(svg.contains("a: gap -5.0 pp, accuracy -1.0 pp, on the Pareto front"))
        #expect(svg.contains("c: gap -1.0 pp, accuracy -2.0 pp;"))
        #expect(svg.contains("<polyline"))
    }

    @Test func oneMitigationIsItsOwnFront() {
        let points = [MitigationChart.Point(label: "only", gapChange: 0.02, accuracyChange: -0.01)]
        #expect(MitigationChart.front(points) == [0])
        #expect(!MitigationChart.render(points, title: "t", subtitle: "s").contains("<polyline"))
    }
}

/// The variants' scorer splits the images over threads: every count, however it divides, scores
/// each image once and the same as alone.
@Suite struct MitigatedScorerTests {
    @Test(arguments: [1, 2, 7, 9, 17, 33, 101])
    func everyImageIsScoredOnceWhateverTheCount(count: Int) {
        let classes: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        let scorer = MitigatedScorer(classEmbeddings: classes, logitScale: 10, logitBias: nil, clipped: [])
        var images: [Float] = []
        for i in 0..<count { images += [i % 3 == 0 ? 1 : 0, i % 3 == 1 ? 1 : 0, i % 3 == 2 ? 1 : 0] }
        let scores = scorer.score(images: images, count: count)
        #expect(scores.map(\.predicted) == (0..<count).map { $0 % 3 })
        // Softmax of 10, 0, 0.
        #expect(scores.allSatisfy { abs($0.confidence - exp(10) / (exp(10) + 2)) < 1e-12 })
    }
}
