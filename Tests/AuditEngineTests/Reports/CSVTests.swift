import Testing

@testable import AuditEngine

@Suite("CSV writing")
struct CSVTests {
    @Test func quotingFollowsRFC4180() {
        #expect(CSVWriter.escape("plain") == "plain")
        #expect(CSVWriter.escape("") == "")
        #expect(CSVWriter.escape("a,b") == "\"a,b\"")
        #expect(CSVWriter.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVWriter.escape("line\nbreak") == "\"line\nbreak\"")
        #expect(CSVWriter.escape("cr\rhere") == "\"cr\rhere\"")
        #expect(CSVWriter.escape("White|Male") == "White|Male")
        var writer = CSVWriter()
        writer.writeRow(["a", "b,c", "d\"e"])
        writer.writeRow(["", "x"])
        #expect(writer.text == "a,\"b,c\",\"d\"\"e\"\n,x\n")
    }

    @Test func numberFormat() {
        #expect(CSVNumber.format(42) == "42")
        #expect(CSVNumber.format(1.0 / 3) == "0.333333")
        #expect(CSVNumber.format(1.0) == "1")
        #expect(CSVNumber.format(0.0) == "0")
        #expect(CSVNumber.format(-0.0) == "0")
        #expect(CSVNumber.format(-0.125) == "-0.125")
        #expect(CSVNumber.format(1.5e-7) == "1.5e-07")
        #expect(CSVNumber.format(123456789.0) == "1.23457e+08")
        #expect(CSVNumber.format(Double?.none) == "")
        #expect(CSVNumber.format(Double.nan) == "")
        #expect(CSVNumber.format(Double.infinity) == "")
        #expect(CSVNumber.format(true) == "true")
    }

    @Test func headersAreTheSpecs() {
        let metrics = MetricsCSV.renderMetrics([])
        let disparities = MetricsCSV.renderDisparities([])
        let comparison = MetricsCSV.renderComparisons([])
        #expect(metrics == "design,metric,attribute,group,n,count,value,ci_low,ci_high\n")
        #expect(
            disparities == "design,metric,attribute,group,reference,value,reference_value,difference,ratio,p_value,p_adjusted,significant,"
                + "n,reference_n,diff_ci_low,diff_ci_high,four_fifths,small_group\n")
        #expect(comparison == "design,base,metric,attribute,group,n,base_value,value,delta,ci_low,ci_high,p_value\n")
    }

    @Test func rowsKeepTheSpecsColumns() {
        let metric = MetricRow(
            design: "denigration", metric: .harmRate("non-human"), attribute: Slice(csvText: "race|gender"),
            group: "White|Male", n: 3, count: 1, value: 1.0 / 3, ciLow: 0.25, ciHigh: 0.5,
            belowMinimumN: true)
        #expect(
            MetricsCSV.renderMetrics([metric]).split(separator: "\n").last
                == "denigration,harm_rate:non-human,race|gender,White|Male,3,1,0.333333,0.25,0.5")

        let disparity = DisparityRow(
            design: "d", metric: .predictionRate("white man, adult"), attribute: Slice(csvText: "race"),
            group: "Black", reference: "White", n: 10, count: 2, referenceN: 10,
            referenceCount: 0, value: 0.2, referenceValue: 0, difference: 0.2, ratio: nil,
            pValue: 0.5, pAdjusted: 1, significant: false, differenceCILow: -0.1,
            differenceCIHigh: 0.5, fourFifthsViolation: true, belowMinimumN: true)
        #expect(
            MetricsCSV.renderDisparities([disparity]).split(separator: "\n").last
                == "d,\"prediction_rate:white man, adult\",race,Black,White,0.2,0,0.2,,0.5,1,false,10,10,-0.1,0.5,true,true")

        let comparison = ComparisonRow(
            design: "v", base: "b", metric: .accuracy, attribute: Slice.all, group: "*", n: 8,
            baseValue: 0.125, value: 0.25, delta: 0.125, ciLow: -0.2, ciHigh: 0.45,
            pValue: 1, baseOnly: 1, variantOnly: 2, belowMinimumN: true)
        let line = MetricsCSV.renderComparisons([comparison]).split(separator: "\n").last
        #expect(line == "v,b,accuracy,*,*,8,0.125,0.25,0.125,-0.2,0.45,1")
        // The flags are not columns.
        #expect(line?.split(separator: ",").count == MetricsCSV.comparisonHeader.count)
    }
}
