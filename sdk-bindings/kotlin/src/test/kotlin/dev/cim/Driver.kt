package dev.cim

import dev.cim.ffi.CimException
import dev.cim.ffi.Client
import dev.cim.ffi.ClientEvent
import dev.cim.ffi.LoginOptions
import dev.cim.ffi.Recipient
import dev.cim.ffi.Transport
import java.io.BufferedReader
import java.io.InputStreamReader
import java.io.PrintStream
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.json.JSONArray
import org.json.JSONObject

/**
 * The conformance driver of the Kotlin SDK (spec/v1/driver.md): JSON-line commands on
 * standard input become calls of [Client], and what the client reports becomes event lines
 * on standard output. It decides nothing itself.
 */
fun main() = runBlocking {
    val out = PrintStream(System.out, true, "UTF-8")
    val emit: (JSONObject) -> Unit = { event -> synchronized(out) { out.println(event.toString()) } }
    val route = System.getenv("CIM_CONFORMANCE_ROUTE") ?: ""
    emit(JSONObject().put("event", "ready"))
    val input = BufferedReader(InputStreamReader(System.`in`, Charsets.UTF_8))
    var session: Session? = null
    while (true) {
        val line = withContext(Dispatchers.IO) { input.readLine() } ?: break
        val command = try { JSONObject(line) } catch (e: Exception) {
            emit(unsupported("", "not a JSON object")); continue
        }
        when (val cmd = command.optString("cmd")) {
            "login" -> {
                val transport = when (command.optString("transport", "tcp")) {
                    "tcp" -> Transport.TCP
                    "websocket" -> Transport.WEB_SOCKET
                    else -> { emit(unsupported(cmd, "unknown transport")); continue }
                }
                session?.close()
                session = Session(this, route, command, transport, emit)
            }
            "send", "online_users" -> session?.commands?.send(command)
                ?: emit(unsupported(cmd, "$cmd before login"))
            "close" -> break
            else -> emit(unsupported(cmd, "this driver does not know the command"))
        }
    }
    session?.close()
    System.exit(0)
}

private fun unsupported(cmd: String, message: String) =
    JSONObject().put("event", "unsupported").put("cmd", cmd).put("message", message)

private fun code(e: CimException): Long = when (e) {
    is CimException.Authentication -> e.code.toLong()
    is CimException.Unavailable -> e.code.toLong()
    is CimException.Rejected -> e.code.toLong()
    else -> 0L
}

/** The client of one `login` command. Commands wait in [commands] until it is logged in. */
private class Session(
    scope: CoroutineScope,
    route: String,
    command: JSONObject,
    transport: Transport,
    private val emit: (JSONObject) -> Unit,
) {
    val commands = Channel<JSONObject>(Channel.UNLIMITED)
    private var client: Client? = null
    private val job: Job = scope.launch(Dispatchers.Default) {
        val options = LoginOptions(
            deviceId = command.optString("device_id"),
            transport = transport,
            trustPem = if (command.has("trust_pem")) command.getString("trust_pem") else null,
            connectTimeoutMs = null,
        )
        val logged = try {
            Client.login(route, command.optString("user_name"), command.optString("password"), options)
        } catch (e: CimException) {
            emit(JSONObject().put("event", "login_failed").put("code", code(e)).put("message", e.message ?: ""))
            return@launch
        }
        client = logged
        launch { pump(logged) }
        for (next in commands) handle(this, logged, next)
    }

    private suspend fun pump(client: Client) {
        while (true) {
            val event = client.nextEvent() ?: return
            emit(when (event) {
                is ClientEvent.Connected -> JSONObject().put("event", "connected").put("session_id", event.sessionId)
                is ClientEvent.MessageReceived -> JSONObject().put("event", "message")
                    .put("message_id", event.message.messageId).put("from_user_id", event.message.fromUserId)
                    .put("seq", event.message.seq.toLong()).put("content_type", event.message.contentType)
                    .put("body", event.message.text)
                is ClientEvent.MessagesLost -> JSONObject().put("event", "messages_lost").put("reason", event.reason)
                is ClientEvent.Disconnected -> JSONObject().put("event", "disconnected").put("message", event.reason)
                is ClientEvent.Closed -> JSONObject().put("event", "closed").put("message", event.reason)
            })
        }
    }

    private fun handle(scope: CoroutineScope, client: Client, command: JSONObject) {
        if (command.optString("cmd") == "online_users") {
            scope.launch {
                try {
                    val ids = client.onlineUsers().map { it.userId }
                    emit(JSONObject().put("event", "online_users").put("user_ids", JSONArray(ids)))
                } catch (e: CimException) {
                    emit(JSONObject().put("event", "call_failed").put("cmd", "online_users")
                        .put("code", code(e)).put("message", e.message ?: ""))
                }
            }
            return
        }
        val to = command.optJSONObject("to") ?: JSONObject()
        val recipient = when {
            to.has("user_id") -> Recipient.User(to.getString("user_id"))
            to.has("group_id") -> Recipient.Group(to.getString("group_id"))
            else -> Recipient.Everyone
        }
        val ref = command.optString("ref")
        val body = command.optString("body").toByteArray(Charsets.UTF_8)
        scope.launch {
            try {
                val ack = client.send(recipient, command.optString("content_type"), body)
                emit(JSONObject().put("event", "sent").put("ref", ref).put("message_id", ack.messageId)
                    .put("duplicate", ack.duplicate))
            } catch (e: CimException) {
                emit(JSONObject().put("event", "send_failed").put("ref", ref).put("code", code(e))
                    .put("message", e.message ?: ""))
            }
        }
    }

    /** Closes the client, even one still logging in (spec DRV-3-4). */
    suspend fun close() {
        commands.close()
        val open = client
        if (open != null) {
            withTimeoutOrNull(3_000) { open.shutdown() }
            emit(JSONObject().put("event", "closed").put("message", "closed by the driver"))
        } else {
            job.cancel()
            emit(JSONObject().put("event", "closed").put("message", "closed by the driver while logging in"))
        }
        withTimeoutOrNull(3_000) { job.join() }
        job.cancel()
    }
}
