// swift-tools-version:6.1
// libFuzzer harnesses for clip-audit's parsers. A separate package, so that `swift build` and
// `swift test` of clip-audit never see them; build and run with `scripts/fuzz.sh`, which does
//   swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
// Each target's main.swift hands its test function to libFuzzer's driver (LLVMFuzzerRunDriver).
import PackageDescription

let harnesses = [
    "FuzzJPEG", "FuzzPNG", "FuzzSafeTensors", "FuzzCSV", "FuzzAuditFile", "FuzzTokenizer",
    "FuzzTokenizerFiles", "FuzzPreprocessorConfig", "FuzzModelConfig", "FuzzPickle"
]

let package = Package(
    name: "clip-audit-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "clip-audit", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport")
    ]
        + harnesses.map { name in
            .executableTarget(
                name: name,
                dependencies: [
                    "FuzzSupport",
                    .product(name: "CLIPEngine", package: "clip-audit"),
                    .product(name: "AuditEngine", package: "clip-audit")
                ],
                path: "Sources/\(name)",
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]
            )
        }
)
