// Two users say hello through a cim node, with the Kotlin SDK.
// Run by the Kotlin SDK's tests (sdk-bindings/kotlin); on its own, with the SDK on the
// classpath: kotlin HelloKt http://127.0.0.1:8083
package dev.cim.examples

import dev.cim.ffi.Client
import dev.cim.ffi.LoginOptions
import dev.cim.ffi.Transport
import dev.cim.ffi.register
import dev.cim.messages
import dev.cim.text
import java.util.UUID
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

/** Registers alice and bob, sends bob a message and returns what bob received. */
suspend fun hello(route: String): String {
    val suffix = UUID.randomUUID().toString().take(6)
    val options = LoginOptions(deviceId = "kotlin-example", transport = Transport.TCP, trustPem = null, connectTimeoutMs = null)
    for (name in listOf("alice-$suffix", "bob-$suffix")) register(route, name, "correct horse battery")
    val alice = Client.login(route, "alice-$suffix", "correct horse battery", options)
    val bob = Client.login(route, "bob-$suffix", "correct horse battery", options)
    alice.sendToUser(bob.userId(), "hello from Kotlin")
    val message = withTimeout(10_000) { bob.messages().first() }
    alice.shutdown(); bob.shutdown(); alice.close(); bob.close()
    return "bob-$suffix got '${message.text}' from ${message.fromUserId}"
}

fun main(args: Array<String>) = runBlocking {
    println(hello(args.firstOrNull() ?: "http://127.0.0.1:8083"))
}
