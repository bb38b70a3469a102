import Cim
import XCTest

/// Against a node started by hand: `cargo run -p cim -- up`, then `swift test`.
final class CimTests: XCTestCase {
    func testAMessageReachesTheOtherUser() async throws {
        let route = ProcessInfo.processInfo.environment["CIM_ROUTE"] ?? "http://127.0.0.1:8083"
        let suffix = String(UUID().uuidString.prefix(8))
        for name in ["alice-\(suffix)", "bob-\(suffix)"] {
            _ = try await register(route: route, user: name, password: "swift-sdk-pw")
        }
        let options = { LoginOptions(deviceId: "swift", transport: .tcp, trustPem: nil, connectTimeoutMs: nil) }
        let alice = try await Client.login(route: route, user: "alice-\(suffix)", password: "swift-sdk-pw", options: options())
        let bob = try await Client.login(route: route, user: "bob-\(suffix)", password: "swift-sdk-pw", options: options())
        _ = try await alice.sendToUser(userId: bob.userId(), text: "hi from Swift")
        while let event = await bob.nextEvent() {
            if case let .messageReceived(message) = event {
                XCTAssertEqual(String(decoding: message.body, as: UTF8.self), "hi from Swift")
                break
            }
        }
        await alice.shutdown()
        await bob.shutdown()
    }
}
