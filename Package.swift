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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(name: "RunbookKit", dependencies: ["CYAML"], swiftSettings: strict),
        .target(
            name: "RunbookActions",
            dependencies: ["RunbookKit", .product(name: "GRDB", package: "GRDB.swift")],
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
        .executableTarget(name: "runbook", dependencies: ["RunbookCLI"], swiftSettings: strict),
        .testTarget(name: "RunbookKitTests", dependencies: ["RunbookKit", "RunbookActions"],
                    exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "RunbookActionsTests", dependencies: ["RunbookActions", "RunbookKit"], swiftSettings: strict),
        .testTarget(name: "RunbookCLITests", dependencies: ["RunbookCLI", "RunbookKit", "RunbookActions"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
