package dev.cim

import dev.cim.ffi.CimException
import dev.cim.ffi.Client
import dev.cim.ffi.ClientEvent
import dev.cim.ffi.Group
import dev.cim.ffi.LoginOptions
import dev.cim.ffi.Recipient
import dev.cim.ffi.Transport
import dev.cim.ffi.register
import java.util.UUID
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/** The Kotlin SDK against a live `cim up`. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientTest {
    private lateinit var node: CimNode
    private val password = "kotlin-sdk-pw"

    @BeforeAll fun start() { node = CimNode() }
    @AfterAll fun stop() { node.close() }

    private fun name(short: String) = "$short-${UUID.randomUUID().toString().take(8)}"

    private suspend fun loggedIn(user: String, transport: Transport = Transport.TCP): Client {
        register(node.route, user, password)
        return Client.login(node.route, user, password, LoginOptions("kt-device", transport))
    }

    @Test fun `a user name is turned into the id to send to`() = runBlocking {
        val carolName = name("carol")
        val carol = loggedIn(carolName)
        val dave = loggedIn(name("dave"))
        assertEquals(carol.userId(), dave.userIdOf(carolName))
        assertThrows<CimException.Rejected> { runBlocking { dave.userIdOf(name("nobody")) } }
        carol.close(); dave.close()
    }

    @Test fun `a message reaches the other user through the Flow of events`() = runBlocking {
        val alice = loggedIn(name("alice"))
        val bob = loggedIn(name("bob"), Transport.WEB_SOCKET)
        val ack = alice.sendToUser(bob.userId(), "hi from Kotlin")
        assertFalse(ack.duplicate)
        val message = withTimeout(10_000) { bob.messages().first() }
        assertEquals("hi from Kotlin", message.text)
        assertEquals(alice.userId(), message.fromUserId)
        assertEquals(ack.messageId, message.messageId)
        assertEquals(Recipient.User(bob.userId()), message.to)
        alice.close(); bob.close()
    }

    @Test fun `a broadcast reaches everyone online and suspend calls list them`() = runBlocking {
        val alice = loggedIn(name("alice"))
        val bob = loggedIn(name("bob"))
        assertTrue(alice.onlineUsers().map { it.userId }.containsAll(listOf(alice.userId(), bob.userId())))
        alice.broadcast("to all")
        val message = withTimeout(10_000) { bob.messages().first() }
        assertEquals(Recipient.Everyone, message.to)
        alice.close(); bob.close()
    }

    @Test fun `groups are created, joined and left, and their messages reach the members`() = runBlocking {
        val alice = loggedIn(name("alice"))
        val bob = loggedIn(name("bob"))
        val team = name("team")
        assertEquals(Group(team, 1uL), alice.createGroup(team))
        assertEquals(2uL, bob.joinGroup(team).memberCount)
        assertEquals(listOf(team), bob.myGroups().map { it.groupId })
        assertEquals(setOf(alice.userId(), bob.userId()), alice.groupMembers(team).map { it.userId }.toSet())
        alice.sendToGroup(team, "to the team")
        val message = withTimeout(10_000) { bob.messages().first() }
        assertEquals(Recipient.Group(team), message.to)
        assertEquals(1uL, bob.leaveGroup(team).memberCount)
        val taken = assertThrows<CimException.Rejected> { runBlocking { bob.createGroup(team) } }
        assertEquals("ALREADY_EXISTS", taken.codeName)
        alice.close(); bob.close()
    }

    @Test fun `errors carry the registry code`() = runBlocking {
        val user = name("dora")
        register(node.route, user, password)
        val taken = assertThrows<CimException.Rejected> { runBlocking { register(node.route, user, password) } }
        assertEquals("ALREADY_EXISTS", taken.codeName)
        val wrong = assertThrows<CimException.Authentication> {
            runBlocking { Client.login(node.route, user, "wrong-password", LoginOptions("d", Transport.TCP, null, 5_000uL)) }
        }
        assertEquals("INVALID_CREDENTIALS", wrong.codeName)
        assertTrue(wrong.code > 0u)
        val dora = Client.login(node.route, user, password, LoginOptions("d", Transport.TCP, null, 5_000uL))
        val unknown = assertThrows<CimException.Rejected> { runBlocking { dora.sendToUser(name("nobody"), "?") } }
        assertEquals("UNKNOWN_RECIPIENT", unknown.codeName)
        dora.shutdown()
        assertThrows<CimException.Closed> { runBlocking { dora.sendToUser(user, "after shutdown") } }
        dora.close()
    }

    @Test fun `a message the app never took comes again to the same device`() = runBlocking {
        val alice = loggedIn(name("alice"))
        val bobName = name("bob")
        val bob = loggedIn(bobName)
        alice.sendToUser(bob.userId(), "arrived, never taken")
        // Long enough for the client to have acknowledged it, had arrival counted as taking.
        Thread.sleep(2_000)
        bob.shutdown(); bob.close() // the app ends without reading its events
        val again = Client.login(node.route, bobName, password, LoginOptions("kt-device", Transport.TCP))
        assertEquals("arrived, never taken", withTimeout(10_000) { again.messages().first() }.text)
        alice.shutdown(); again.shutdown(); alice.close(); again.close()
    }

    @Test fun `close alone ends the client's session`() = runBlocking {
        val alice = loggedIn(name("alice"))
        val bob = loggedIn(name("bob"))
        assertTrue(bob.onlineUsers().any { it.userId == alice.userId() })
        val aliceId = alice.userId()
        alice.close() // releases the native object, which closes the client: no shutdown() first
        val gone = withTimeoutOrNull(10_000) {
            while (bob.onlineUsers().any { it.userId == aliceId }) kotlinx.coroutines.delay(100)
        }
        assertTrue(gone != null, "alice is still online 10 s after close()")
        bob.close()
    }

    @Test fun `the README example runs`() = runBlocking {
        val said = dev.cim.examples.hello(node.route)
        assertTrue(said.matches(Regex("bob-\\w+ got 'hello from Kotlin' from alice-\\w+")), said)
    }

    @Test fun `releasing a subscription stops its events`() = runBlocking {
        val alice = loggedIn(name("alice"))
        val bob = loggedIn(name("bob"))
        // The first collection ends (and releases its subscription) after one message.
        alice.sendToUser(bob.userId(), "one")
        assertEquals("one", withTimeout(10_000) { bob.messages().first() }.text)
        // Events go to the next subscriber, not to the released one.
        alice.sendToUser(bob.userId(), "two")
        assertEquals("two", withTimeout(10_000) { bob.messages().first() }.text)
        alice.shutdown()
        bob.shutdown()
        // With both subscriptions released, the events are free to read: they end with Closed.
        val rest = withTimeoutOrNull(10_000) {
            mutableListOf<ClientEvent>().also { seen ->
                while (true) seen += bob.nextEvent() ?: break
            }
        }
        assertTrue(rest != null && rest.last() is ClientEvent.Closed, "events after shutdown: $rest")
        alice.close(); bob.close()
    }
}
