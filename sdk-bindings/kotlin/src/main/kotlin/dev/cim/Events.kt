package dev.cim

import dev.cim.ffi.Client
import dev.cim.ffi.ClientEvent
import dev.cim.ffi.EventListener
import dev.cim.ffi.Message
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.map

/**
 * The client's events as a Flow, in order, until the client closes. Collecting subscribes a
 * listener on the native side; cancelling the collection releases the subscription, which
 * stops it. Collect it once at a time: each event goes to one collector.
 */
fun Client.events(): Flow<ClientEvent> = callbackFlow {
    val subscription = subscribe(object : EventListener {
        // Called on a native thread: hand over without blocking.
        override fun onEvent(event: ClientEvent) {
            trySend(event)
            if (event is ClientEvent.Closed) channel.close()
        }
    })
    awaitClose { subscription.close() }
}.buffer(Channel.UNLIMITED)

/** Only the messages of [events]. */
fun Client.messages(): Flow<Message> =
    events().filterIsInstance<ClientEvent.MessageReceived>().map { it.message }

/** The body as UTF-8 text. */
val Message.text: String get() = body.toString(Charsets.UTF_8)
