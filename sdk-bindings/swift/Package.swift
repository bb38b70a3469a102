// swift-tools-version:5.9
// The Swift SDK of cim: the uniffi bindings of sdk-bindings/ffi (Sources/Cim/cim.swift and
// Sources/CimFFI/include, generated) over libcim_ffi.a. Not compiled in cim's CI, which has no
// Swift toolchain; see README.md for building and testing on macOS.
import PackageDescription

let package = Package(
    name: "Cim",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [.library(name: "Cim", targets: ["Cim"])],
    targets: [
        // The C declarations of libcim_ffi; link the static library built by cargo
        // (see README.md): swift build -Xlinker -L<dir of libcim_ffi.a>
        .target(
            name: "CimFFI",
            path: "Sources/CimFFI",
            linkerSettings: [.linkedLibrary("cim_ffi")]
        ),
        .target(name: "Cim", dependencies: ["CimFFI"], path: "Sources/Cim"),
        .testTarget(name: "CimTests", dependencies: ["Cim"], path: "Tests/CimTests"),
    ]
)
