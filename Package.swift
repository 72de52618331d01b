// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "runbook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "runbook", targets: ["runbook"]),
        .library(name: "RunbookKit", targets: ["RunbookKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(name: "RunbookKit", dependencies: ["CYAML"], swiftSettings: strict),
        // posix_spawn extensions that Swift's Glibc module does not import (pipe2, addchdir_np, SETSID).
        .target(name: "CProcessSpawn"),
        .target(
            name: "RunbookActions",
            dependencies: [
                "RunbookKit", "CProcessSpawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RunbookCLI",
            dependencies: [
                "RunbookKit", "RunbookActions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // mimalloc (Debian's libmimalloc-dev) replaces glibc's malloc in the binary: lint builds and
        // frees many small values, some on another thread than the one that made them (BENCHMARKS.md).
        .executableTarget(name: "runbook", dependencies: ["RunbookCLI"], swiftSettings: strict,
                          linkerSettings: [.linkedLibrary("mimalloc", .when(platforms: [.linux]))]),
        .testTarget(name: "RunbookKitTests", dependencies: ["RunbookKit", "RunbookActions"],
                    exclude: ["Fixtures"], swiftSettings: strict),
        // A real loopback HTTP server and other helpers that several test targets share.
        .target(
            name: "RunbookTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/RunbookTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "RunbookActionsTests", dependencies: ["RunbookActions", "RunbookKit", "RunbookTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "RunbookCLITests", dependencies: ["RunbookCLI", "RunbookKit", "RunbookActions", "RunbookTestSupport"],
                    exclude: ["Fixtures"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
