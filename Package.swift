// swift-tools-version:6.1
// clip-audit: a fairness and bias auditing toolkit for CLIP.
//
// Layout (one module per concern):
//   C wrappers   CClipOpenBLAS, CClipCSV, CClipSQLite, CClipCrypto (system libraries),
//                CClipImageCodecs (libjpeg/libpng decoding that reports errors instead of exiting)
//   CLIPEngine   weights, tokenizer, imaging, network, model resolution/download, and the
//                file handling both engines use (AtomicFile, FileKind)
//   AuditEngine  config, manifest, scoring, statistics, cache, reports
//   clip-audit   the command-line frontend (thin: parses arguments, calls the engines)
//
// Platform: built and tested on Linux only (Debian 12, x86_64, Swift 6.1+; the system libraries
// come from apt, see scripts/install-deps.sh). `platforms:` can only name Apple platforms, so it
// is left out rather than claim a macOS version nothing builds or tests on. The few Linux-only
// calls (stat's st_mtim, Glibc-qualified write/send, rusage constants) sit behind `#if os(Linux)`
// with their Darwin spelling beside them, so a macOS port starts from a build, not a rewrite
// (PlatformTests keeps it so).
import PackageDescription

let package = Package(
    name: "clip-audit",
    products: [
        .executable(name: "clip-audit", targets: ["clip-audit"]),
        .library(name: "CLIPEngine", targets: ["CLIPEngine"]),
        .library(name: "AuditEngine", targets: ["AuditEngine"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2")
    ],
    targets: [
        // MARK: C wrappers (module names are global: prefixed with CClip)
        .systemLibrary(
            name: "CClipOpenBLAS", path: "Sources/CClipOpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CClipCSV", path: "Sources/CClipCSV", providers: [.apt(["libcsv-dev"])]),
        .systemLibrary(name: "CClipSQLite", path: "Sources/CClipSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CClipCrypto", path: "Sources/CClipCrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "CClipImageCodecs",
            path: "Sources/CClipImageCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png")]
        ),
        // The forward pass's element-wise kernels (AVX2+FMA chosen at run time, portable C otherwise).
        .target(name: "CClipKernels", path: "Sources/CClipKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // MARK: Engines
        .target(
            name: "CLIPEngine",
            dependencies: ["CClipOpenBLAS", "CClipImageCodecs", "CClipCrypto", "CClipKernels"]
        ),
        .target(
            name: "AuditEngine",
            dependencies: [
                "CLIPEngine", "CClipCSV", "CClipSQLite", "CClipOpenBLAS",
                .product(name: "Yams", package: "Yams")
            ]
        ),

        // MARK: Frontend
        .executableTarget(
            name: "clip-audit",
            dependencies: [
                "CLIPEngine", "AuditEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),

        // MARK: Tests (mirror the source folders)
        // Where the package and its fixtures are, for every test target.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "CLIPEngineTests", dependencies: ["CLIPEngine", "CClipKernels", "TestSupport"]),
        // Snapshots are read through #filePath, not as bundle resources.
        .testTarget(
            name: "AuditEngineTests", dependencies: ["AuditEngine", "CLIPEngine", "TestSupport"],
            exclude: ["Reports/Snapshots"]),
        .testTarget(name: "CLITests", dependencies: ["CLIPEngine", "AuditEngine", "TestSupport"])
    ]
)
