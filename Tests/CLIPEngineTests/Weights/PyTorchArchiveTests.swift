import Foundation
import Testing

@testable import CLIPEngine

/// The PyTorch archive reader: zip directory, pickle, tensor views; hostile archives fail with
/// one line naming the file, and nothing in them is run.
@Suite struct PyTorchArchiveTests {
    typealias Spec = (name: String, storage: String, count: Int, offset: Int, shape: [Int], stride: [Int])

    /// An archive holding `tensors` over storages `data` (key → F32 values).
    func archive(_ tensors: [Spec], data: [String: [Float]], pickle: [UInt8]? = nil) -> TorchArchiveWriter {
        var writer = TorchArchiveWriter()
        writer.add("archive/data.pkl", pickle ?? PickleBuilder.stateDict(tensors))
        for key in data.keys.sorted() { writer.add("archive/data/\(key)", float32Bytes(data[key]!)) }
        writer.add("archive/version", Array("3\n".utf8))
        return writer
    }

    /// The error `body` throws, as its one-line description.
    func failure(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func readsOffsetsStridesAndSharedStorages() throws {
        // One storage of 12 values: a [2, 3] view at offset 0, its transpose (strides 1, 3), and
        // a [2] slice at offset 7 with stride 2.
        let values = (0..<12).map { Float($0) }
        let url = try archive(
            [
                ("a", "0", 12, 0, [2, 3], [3, 1]), ("t", "0", 12, 0, [3, 2], [1, 3]),
                ("s", "0", 12, 7, [2], [2])
            ], data: ["0": values]
        ).write()
        let file = try PyTorchArchive(url: url)
        #expect(file.kind == .stateDict)
        #expect(Set(file.tensorNames) == ["a", "t", "s"])
        #expect(try file.floatValues("a") == [0, 1, 2, 3, 4, 5])
        #expect(try file.floatValues("t") == [0, 3, 1, 4, 2, 5])
        #expect(try file.floatValues("s") == [7, 9])
        // Contiguous F32 is used in place; a transposed view is not.
        #expect(file.float32InPlace("a").map(Array.init) == [0, 1, 2, 3, 4, 5])
        #expect(file.float32InPlace("t") == nil)
    }

    /// Zip64 directories (what writers use past 4 GB) are read; a zip64 locator pointing
    /// outside the file fails in one line.
    @Test func readsZip64Directories() throws {
        var writer = archive([("a", "0", 4, 0, [2, 2], [2, 1])], data: ["0": [1, 2, 3, 4]])
        writer.zip64 = true
        let file = try PyTorchArchive(url: try writer.write())
        #expect(try file.floatValues("a") == [1, 2, 3, 4])
        var bytes = writer.bytes()
        // The locator's record offset is 8 bytes into the locator, 20 + 22 bytes before the end.
        let field = bytes.count - 22 - 20 + 8
        for i in 0..<8 { bytes[field + i] = 0x7F }
        let dir = try TorchArchiveWriter.temporaryDirectory()
        let url = dir.appendingPathComponent("z64.bin")
        try Data(bytes).write(to: url)
        #expect(failure { _ = try PyTorchArchive(url: url) } == "z64.bin: zip64 end-of-directory record out of range or damaged")
    }

    @Test func readsHalfAndBFloat16Storages() throws {
        var writer = TorchArchiveWriter()
        var p = PickleBuilder()
        p.op(0x7D); p.op(0x28)
        p.string("h"); p.tensor(storage: "0", type: "HalfStorage", count: 2, offset: 0, shape: [2], stride: [1])
        p.string("b"); p.tensor(storage: "1", type: "BFloat16Storage", count: 2, offset: 0, shape: [2], stride: [1])
        p.op(0x75); p.op(0x2E)
        writer.add("archive/data.pkl", p.bytes)
        writer.add("archive/data/0", [0x00, 0x3C, 0x00, 0xC0]) // 1.0, -2.0 in F16
        writer.add("archive/data/1", [0x80, 0x3F, 0x40, 0x40]) // 1.0, 3.0 in BF16
        let file = try PyTorchArchive(url: try writer.write())
        #expect(try file.floatValues("h") == [1, -2])
        #expect(try file.floatValues("b") == [1, 3])
    }

    /// The classic exploit: GLOBAL posix.system, then REDUCE with a shell command. The reader
    /// refuses at the GLOBAL, naming the file and the global; the command never runs.
    @Test func refusesOSSystemWithoutRunningIt() throws {
        let canary = FileManager.default.temporaryDirectory.appendingPathComponent("pickle-canary-\(UUID().uuidString)")
        for (module, name) in [("posix", "system"), ("os", "system"), ("builtins", "eval"), ("subprocess", "call")] {
            var p = PickleBuilder()
            p.global(module, name)
            p.string(module == "builtins" ? "__import__('os').system('touch \(canary.path)')" : "touch \(canary.path)")
            p.op(0x85); p.op(0x52); p.op(0x2E)
            let url = try archive([], data: [:], pickle: p.bytes).write(name: "evil.bin")
            let message = failure { _ = try PyTorchArchive(url: url) }
            #expect(message?.hasPrefix("evil.bin: ") == true, "\(message ?? "no error")")
            #expect(message?.contains("\(module).\(name)") == true, "\(message ?? "no error")")
            #expect(message?.contains("\n") == false)
        }
        // The same through STACK_GLOBAL (protocol 4).
        var p = PickleBuilder()
        p.string("builtins"); p.string("eval"); p.op(0x93)
        p.string("1"); p.op(0x85); p.op(0x52); p.op(0x2E)
        let url = try archive([], data: [:], pickle: p.bytes).write(name: "evil4.bin")
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("builtins.eval") == true)
        #expect(!FileManager.default.fileExists(atPath: canary.path))
    }

    @Test func refusesTorchScriptModulesInAStateDictAndInstantiatingOpcodes() throws {
        // `__torch__` classes are only for TorchScript archives (which have constants.pkl/code/).
        var p = PickleBuilder()
        p.global("__torch__.clip.model", "CLIP"); p.op(0x29); p.op(0x81); p.op(0x2E)
        let url = try archive([], data: [:], pickle: p.bytes).write()
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("__torch__.clip.model.CLIP") == true)
        // INST (protocol 0) names and calls a class in one opcode: refused as an opcode.
        let inst: [UInt8] = [0x28] + Array("ios\nsystem\n".utf8) + [0x2E]
        let url2 = try archive([], data: [:], pickle: inst).write()
        #expect(failure { _ = try PyTorchArchive(url: url2) }?.contains("INST") == true)
    }

    @Test func truncatedArchivesFailWithOneLine() throws {
        let full = archive([("a", "0", 4, 0, [4], [1])], data: ["0": [1, 2, 3, 4]]).bytes()
        for length in [0, 10, 30, full.count / 2, full.count - 1] {
            let dir = try TorchArchiveWriter.temporaryDirectory()
            let url = dir.appendingPathComponent("cut.bin")
            try Data(full[0..<length]).write(to: url)
            let message = failure { _ = try PyTorchArchive(url: url) }
            #expect(message?.hasPrefix("cut.bin: ") == true, "length \(length): \(message ?? "no error")")
            #expect(message?.contains("\n") == false)
        }
    }

    @Test func storageShorterThanItsTensorFails() throws {
        // The pickle claims 8 elements; the entry holds 4.
        let url = try archive([("a", "0", 8, 0, [8], [1])], data: ["0": [1, 2, 3, 4]]).write()
        let message = failure { _ = try PyTorchArchive(url: url) }
        #expect(message?.contains("storage 0 claims 8 elements") == true, "\(message ?? "no error")")
    }

    @Test func viewsPastTheEndOfTheirStorageFail() throws {
        for (offset, shape, stride) in [(3, [2], [1]), (0, [2, 3], [3, 2]), (0, [5], [1]), (0, [2], [Int.max / 2])] {
            let url = try archive([("a", "0", 4, offset, shape, stride)], data: ["0": [1, 2, 3, 4]]).write()
            let message = failure { _ = try PyTorchArchive(url: url) }
            #expect(
                message.map { $0.contains("past the end of storage 0") || $0.contains("overflow") } == true,
                "offset \(offset) shape \(shape) stride \(stride): \(message ?? "no error")")
        }
        // Negative strides do not exist in PyTorch.
        let url = try archive([("a", "0", 4, 3, [2], [-1])], data: ["0": [1, 2, 3, 4]]).write()
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("negative") == true)
    }

    @Test func duplicateNamesFail() throws {
        let url = try archive([("a", "0", 4, 0, [4], [1]), ("a", "0", 4, 0, [2], [1])], data: ["0": [1, 2, 3, 4]]).write()
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("duplicate tensor name \"a\"") == true)
        var writer = archive([("a", "0", 4, 0, [4], [1])], data: ["0": [1, 2, 3, 4]])
        writer.add("archive/data/0", float32Bytes([5, 6, 7, 8]))
        let url2 = try writer.write()
        #expect(failure { _ = try PyTorchArchive(url: url2) }?.contains("duplicate entry \"archive/data/0\"") == true)
    }

    @Test func missingStorageEntryAndMissingTensorsAreNamed() throws {
        let url = try archive([("a", "7", 4, 0, [4], [1])], data: ["0": [1, 2, 3, 4]]).write()
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("storage 7 has no entry archive/data/7") == true)
        // A state dict without the model's tensors: the loader names the first one missing.
        let url2 = try archive([("logit_scale", "0", 1, 0, [], [])], data: ["0": [2.5]]).write()
        let file = try PyTorchArchive(url: url2)
        let message = failure { _ = try CLIPModel(configuration: CLIPConfiguration(), archive: file, layout: .huggingFace) }
        #expect(message == "pytorch_model.bin: tensor \"text_model.embeddings.token_embedding.weight\": not found in the file")
    }

    /// A compressed entry declaring 4 GB unpacked is refused without inflating anything, as is
    /// a directory where two entries share bytes (how "non-overlapping" zip bombs multiply).
    @Test func zipBombsFail() throws {
        var writer = archive([("a", "9", 4, 0, [4], [1])], data: [:])
        writer.entries.append(.init(name: "archive/data/9", data: [0x03, 0x00], method: 8, declaredSize: 0xFFFF_FFF0))
        let message = failure { _ = try PyTorchArchive(url: try writer.write()) }
        #expect(message?.contains("storage 9 is a compressed entry") == true, "\(message ?? "no error")")
        // A compressed pickle is refused too.
        var packed = archive([], data: ["0": [1]])
        packed.entries[0].method = 8
        packed.entries[0].declaredSize = 0xFFFF_FFF0
        let pickle = failure { _ = try PyTorchArchive(url: try packed.write()) }
        #expect(pickle?.contains("entry \"archive/data.pkl\" is compressed") == true, "\(pickle ?? "no error")")

        // Two directory entries pointing at one local header.
        let good = archive([("a", "0", 4, 0, [4], [1])], data: ["0": [1, 2, 3, 4]])
        var bytes = good.bytes()
        // Rename the version entry's directory record to point at data/0's local header.
        let central = bytes.indices.filter { i in i + 4 <= bytes.count && bytes[i..<(i + 4)] == [0x50, 0x4B, 0x01, 0x02] }
        #expect(central.count == 3)
        let secondOffset = Array(bytes[(central[1] + 42)..<(central[1] + 46)])
        bytes.replaceSubrange((central[2] + 42)..<(central[2] + 46), with: secondOffset)
        let dir = try TorchArchiveWriter.temporaryDirectory()
        let url = dir.appendingPathComponent("overlap.bin")
        try Data(bytes).write(to: url)
        let overlap = failure { _ = try PyTorchArchive(url: url) }
        #expect(overlap?.hasPrefix("overlap.bin: ") == true, "\(overlap ?? "no error")")
    }

    @Test func bigEndianDataIsRefused() throws {
        var writer = archive([("a", "0", 1, 0, [1], [1])], data: ["0": [1]])
        writer.add("archive/byteorder", Array("big".utf8))
        let message = failure { _ = try PyTorchArchive(url: try writer.write()) }
        #expect(message == "pytorch_model.bin: archive/byteorder is \"big\": only little-endian tensor data is supported")
        var little = archive([("a", "0", 1, 0, [1], [1])], data: ["0": [1]])
        little.add("archive/byteorder", Array("little".utf8))
        #expect(try PyTorchArchive(url: try little.write()).floats("a") == [1])
    }

    @Test func damagedPickleFailsItsChecksum() throws {
        var writer = archive([("a", "0", 4, 0, [4], [1])], data: ["0": [1, 2, 3, 4]])
        writer.entries[0].crc = 1234
        #expect(failure { _ = try PyTorchArchive(url: try writer.write()) }?.contains("CRC-32") == true)
    }

    @Test func notAnArchiveOrNotAStateDict() throws {
        let dir = try TorchArchiveWriter.temporaryDirectory()
        let text = dir.appendingPathComponent("notes.bin")
        try Data("hello".utf8).write(to: text)
        #expect(failure { _ = try PyTorchArchive(url: text) }?.hasPrefix("notes.bin: file is 5 bytes") == true)
        var p = PickleBuilder()
        p.int(7); p.op(0x2E)
        #expect(
            failure { _ = try PyTorchArchive(url: try archive([], data: [:], pickle: p.bytes).write()) }?
                .contains("holds an int, not a state dict") == true)
        let legacy = dir.appendingPathComponent("old.bin")
        try Data(PickleBuilder.stateDict([]) + [UInt8](repeating: 0, count: 64)).write(to: legacy)
        #expect(failure { _ = try PyTorchArchive(url: legacy) }?.hasPrefix("old.bin: a legacy torch.save file") == true)
        var writer = TorchArchiveWriter()
        writer.add("x/other.txt", [1])
        #expect(failure { _ = try PyTorchArchive(url: try writer.write()) }?.contains("no */data.pkl entry") == true)
    }

    /// A few bytes per level nest values a million deep (TUPLE1 after TUPLE1), or share one
    /// value 2^60 ways (DUP, TUPLE2): reading and freeing either stays shallow and linear, and
    /// ends in one line, not a stack overflow or a hang.
    @Test func deepAndSharedPicklesFailWithoutOverflowOrBlowUp() throws {
        var deep: [UInt8] = [0x80, 0x02, 0x4E]
        deep += [UInt8](repeating: 0x85, count: 1_000_000)
        deep.append(0x2E)
        let url = try archive([], data: [:], pickle: deep).write()
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("holds a tuple, not a state dict") == true)
        // The same depth in lists (EMPTY_LIST, then APPEND into the next), left on the stack by a
        // truncated pickle.
        var lists: [UInt8] = [0x80, 0x02, 0x5D]
        for _ in 0..<300_000 { lists += [0x5D, 0x32, 0x71, 0x00, 0x30, 0x61, 0x68, 0x00] }
        let url2 = try archive([], data: [:], pickle: lists).write()
        #expect(failure { _ = try PyTorchArchive(url: url2) }?.contains("pickle byte") == true)
        var shared: [UInt8] = [0x80, 0x02, 0x4E]
        for _ in 0..<60 { shared += [0x32, 0x86] }
        shared.append(0x2E)
        let url3 = try archive([], data: [:], pickle: shared).write()
        #expect(failure { _ = try PyTorchArchive(url: url3) }?.contains("holds a tuple, not a state dict") == true)
    }

    /// A value dropped while the pickle is read (POP, a memo slot written again, a dict key set
    /// twice, the arguments of a call that is refused) used to be released recursively, one
    /// stack frame per level: a million nested TUPLE1 overflowed the stack. Every case ends in
    /// one line.
    @Test func valuesDroppedMidParseAreReleasedWithoutRecursion() throws {
        let chain = [UInt8](repeating: 0x85, count: 1_000_000) // TUPLE1 × 10^6 around a None
        func message(_ pickle: [UInt8]) throws -> String? {
            let url = try archive([], data: [:], pickle: pickle).write()
            return failure { _ = try PyTorchArchive(url: url) }
        }
        // POP, then a None as the whole pickle.
        #expect(try message([0x80, 0x02, 0x4E] + chain + [0x30, 0x4E, 0x2E])?.contains("holds None, not a state dict") == true)
        // BINPUT 0, POP, then BINPUT 0 again over the chain's slot.
        #expect(
            try message([0x80, 0x02, 0x4E] + chain + [0x71, 0x00, 0x30, 0x4E, 0x71, 0x00, 0x2E])?.contains("holds None, not a state dict")
                == true)
        // A dict whose key "a" is set to the chain, then to None.
        var p = PickleBuilder()
        p.op(0x7D); p.string("a"); p.op(0x4E); p.bytes += chain; p.op(0x73); p.string("a"); p.op(0x4E); p.op(0x73); p.op(0x2E)
        #expect(try message(p.bytes)?.contains("duplicate tensor name \"a\"") == true)
        // The chain as the arguments of a call that is refused.
        var call = PickleBuilder()
        call.global("torch", "FloatStorage"); call.op(0x4E); call.bytes += chain; call.op(0x52); call.op(0x2E)
        #expect(try message(call.bytes)?.contains("calling torch.FloatStorage is not allowed") == true)
    }

    /// Values dropped at once still count until the read ends (they are freed together,
    /// flat): EMPTY_TUPLE, POP repeated past the reader's limit ends in one line, so a large
    /// pickle cannot hold gigabytes of empty containers. (A limit of 1,000 here; archives are
    /// read with `defaultMaxContainers`.)
    @Test func containerCountIsBounded() throws {
        var reader = PickleReader(allowsModules: false) { key, _, _ in throw PickleError(message: "no storage \(key)") }
        reader.maxContainers = 1000
        #expect(PickleReader.defaultMaxContainers == 2_000_000)
        func read(_ pairs: Int) -> String? {
            let pickle: [UInt8] = [0x80, 0x02] + Array([[UInt8]](repeating: [0x29, 0x30], count: pairs).joined()) + [0x4E, 0x2E]
            return failure { _ = try pickle.withUnsafeBytes { try reader.read($0) { $0.kind } } }
        }
        #expect(read(1000) == nil)
        #expect(read(1001) == "pickle byte 2003: more than 1000 tuples, lists and dicts: not a weights file")
    }

    /// Views whose sizes or strides are near the top of Int: a (0, 2^62, 2^62) view with
    /// contiguous strides (its contiguity check multiplied them), and a [1, 2] view whose
    /// size-1 axis has stride Int.max (the element walk stepped over it). Both read without
    /// trapping, and the values are the view's.
    @Test func viewsWithHugeSizesOrStridesReadWithoutOverflow() throws {
        let url = try archive(
            [("z", "0", 4, 0, [0, 1 << 62, 1 << 62], [1, 1 << 62, 1]), ("s", "0", 4, 1, [1, 2], [Int.max, 2])],
            data: ["0": [1, 2, 3, 4]]
        ).write()
        let file = try PyTorchArchive(url: url)
        #expect(try file.floatValues("z") == [])
        #expect(file.float32InPlace("z").map(Array.init) ?? [] == [])
        #expect(try file.floatValues("s") == [2, 4])
    }

    /// Malformed pickles (cut anywhere, bad lengths, stack underflow) fail with one line, never
    /// a crash: every prefix of a real state-dict pickle.
    @Test func everyPrefixOfAPickleFailsCleanly() throws {
        let pickle = PickleBuilder.stateDict([("a", "0", 4, 0, [2, 2], [2, 1])])
        for length in 0..<pickle.count {
            let url = try archive([], data: ["0": [1, 2, 3, 4]], pickle: Array(pickle[0..<length])).write()
            let message = failure { _ = try PyTorchArchive(url: url) }
            #expect(
                message?.hasPrefix("pytorch_model.bin: archive/data.pkl: pickle byte") == true, "length \(length): \(message ?? "no error")"
            )
        }
        // A huge length prefix on a string.
        var p = PickleBuilder()
        p.bytes += [0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41]
        let url = try archive([], data: [:], pickle: p.bytes).write()
        #expect(failure { _ = try PyTorchArchive(url: url) }?.contains("runs past the end of the pickle") == true)
    }
}
