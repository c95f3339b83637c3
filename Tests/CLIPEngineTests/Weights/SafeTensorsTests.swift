import Foundation
import Testing

@testable import CLIPEngine

/// The safetensors reader against hand-built files: the bytes are laid out here by the format's
/// definition (8-byte little-endian length, JSON header, data), independently of the writer.
@Suite struct SafeTensorsTests {
    /// Builds a file from a header string and raw data bytes, exactly as the format defines.
    func makeFile(header: String, data: [UInt8], lengthOverride: UInt64? = nil) throws -> URL {
        var bytes: [UInt8] = []
        var length = (lengthOverride ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: data)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors")
        try Data(bytes).write(to: url)
        return url
    }

    func expectError(
        _ code: SafeTensorsError.Code, header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil,
        mentioning fragment: String
    ) throws {
        let url = try makeFile(header: header, data: data, lengthOverride: lengthOverride)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try SafeTensorsFile(url: url)
            Issue.record("expected \(code) for header \(header)")
        } catch let error as SafeTensorsError {
            #expect(error.code == code)
            #expect(error.description.contains(url.lastPathComponent))
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func readsF32F16BF16AndIntegers() throws {
        // 1.0, -2.5 as F32; 1.0 (0x3C00), -2.0 (0xC000), 2^-24 (0x0001, smallest subnormal) as F16;
        // 1.0 (0x3F80) as BF16; 7 and -3 as I64.
        var data: [UInt8] = []
        data += [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0]
        data += [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]
        data += [0x80, 0x3F]
        data += [7, 0, 0, 0, 0, 0, 0, 0] + [0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let header = """
            {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[3],"data_offsets":[8,14]},\
            "b":{"dtype":"BF16","shape":[1],"data_offsets":[14,16]},"position_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[16,32]},\
            "__metadata__":{"format":"pt"}}
            """
        let url = try makeFile(header: header, data: data)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafeTensorsFile(url: url)
        #expect(try file.floats("a") == [1.0, -2.5])
        #expect(try file.floats("h") == [1.0, -2.0, Float(sign: .plus, exponent: -24, significand: 1)])
        #expect(try file.floats("b") == [1.0])
        #expect(try file.integers("position_ids") == [7, -3])
        #expect(file.metadata["format"] == "pt")
        #expect(try file.info("position_ids").shape == [1, 2])
    }

    @Test func missingTensorNamesFileAndTensor() throws {
        let url = try makeFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafeTensorsFile(url: url)
        #expect(throws: SafeTensorsError.self) { try file.floats("text_projection.weight") }
        do { _ = try file.info("a", shape: [2]) } catch let e as SafeTensorsError {
            #expect(e.code == .shapeMismatch)
            #expect(e.description.contains("\"a\""))
        }
    }

    @Test func malformedHeaders() throws {
        try expectError(.malformedHeader, header: "{}", lengthOverride: 1 << 40, mentioning: "past the end")
        try expectError(.malformedHeader, header: "{not json", mentioning: "not valid JSON")
        try expectError(.malformedHeader, header: "[1,2]", mentioning: "not a JSON object")
        try expectError(
            .unsupportedDType, header: #"{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#,
            data: [0, 0, 0, 0], mentioning: "F17")
        try expectError(
            .badTensorEntry, header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#,
            data: [0, 0, 0, 0], mentioning: "out of range")
        try expectError(
            .badTensorEntry, header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
            data: [0, 0, 0, 0], mentioning: "needs 8")
        try expectError(
            .badTensorEntry, header: #"{"a":{"dtype":"F32","shape":[1000000000,1000000],"data_offsets":[0,4]}}"#,
            data: [0, 0, 0, 0], mentioning: "larger than")
        try expectError(
            .badTensorEntry, header: #"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#,
            data: [0, 0, 0, 0], mentioning: "non-negative integer")
        try expectError(
            .badTensorEntry,
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: [UInt8](repeating: 0, count: 8), mentioning: "overlap")
        try expectError(
            .badTensorEntry, header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#,
            data: [0, 0, 0, 0], mentioning: "out of range")
    }

    /// JSONSerialization keeps the later of two entries with one name; the header is refused
    /// instead, naming the tensor.
    @Test func tensorNamedTwiceIsRefused() throws {
        let twice = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try expectError(
            .malformedHeader, header: twice, data: [UInt8](repeating: 0, count: 8),
            mentioning: "tensor \"a\": the header names this tensor twice")
        // The same name spelled with an escape is the same name.
        let escaped = #"{"ab":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0061b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try expectError(
            .malformedHeader, header: escaped, data: [UInt8](repeating: 0, count: 8),
            mentioning: "tensor \"ab\": the header names this tensor twice")
        let dtypeTwice = #"{"a":{"dtype":"F16","shape":[2],"dtype":"F32","data_offsets":[0,8]}}"#
        try expectError(
            .badTensorEntry, header: dtypeTwice, data: [UInt8](repeating: 0, count: 8),
            mentioning: "tensor \"a\": key \"dtype\" appears twice in its entry")
    }

    @Test func tooShortFileAndMissingFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString).safetensors")
        try Data([1, 2, 3]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(url: url) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(url: URL(fileURLWithPath: "/nonexistent/x.safetensors")) }
    }

    @Test func writerOutputReadsBack() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensorsWriter.write(
            [.float32("x", shape: [2, 2], [1, 2, 3, 4]), .int64("ids", shape: [1, 3], [49406, 320, 49407])], to: url)
        let raw = try Data(contentsOf: url)
        let headerLength = raw.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect((8 + Int(headerLength)) % 8 == 0)
        let file = try SafeTensorsFile(url: url)
        #expect(try file.floats("x") == [1, 2, 3, 4])
        #expect(try file.integers("ids") == [49406, 320, 49407])
    }
}
