// Two users say hello through a cim node, with the Kotlin SDK.
// On its own (a Maven project whose one dependency is the SDK, see README.md):
//   cd examples/kotlin && mvn -q compile exec:java          # the route of CIM_ROUTE, or 127.0.0.1:8083
// The Kotlin SDK's own tests also compile and run it.
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
    for (name in listOf("alice-$suffix", "bob-$suffix")) register(route, name, "correct horse battery")
    val options = LoginOptions(deviceId = "kotlin-example", transport = Transport.TCP)
    // `use` closes each client (and its connection) at the end of the block.
    return Client.login(route, "alice-$suffix", "correct horse battery", options).use { alice ->
        Client.login(route, "bob-$suffix", "correct horse battery", options).use { bob ->
            alice.sendToUser(bob.userId(), "hello from Kotlin")
            val message = withTimeout(10_000) { bob.messages().first() }
            "bob-$suffix got '${message.text}' from ${message.fromUserId}"
        }
    }
}

fun main(args: Array<String>) = runBlocking {
    println(hello(args.firstOrNull() ?: System.getenv("CIM_ROUTE") ?: "http://127.0.0.1:8083"))
}
