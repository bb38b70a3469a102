package dev.cim

import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI

/** A real `cim up` on free ports, for the tests; `cim.bin` names the binary. */
class CimNode : AutoCloseable {
    val route: String
    private val process: Process

    init {
        val binary = System.getProperty("cim.bin") ?: error("set -Dcim.bin to the cim binary")
        check(File(binary).canExecute()) { "$binary is not built: cargo build -p cim" }
        val routePort = freePort()
        val args = listOf(binary, "up", "--route-listen", "127.0.0.1:$routePort", "--free-ports")
        val log = File.createTempFile("cim-up-", ".log")
        process = ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log).start()
        route = "http://127.0.0.1:$routePort"
        val deadline = System.nanoTime() + 20_000_000_000L
        while (!healthy()) {
            if (!process.isAlive || System.nanoTime() > deadline) {
                process.destroyForcibly()
                error("cim up did not start; see $log")
            }
            Thread.sleep(100)
        }
    }

    private fun healthy(): Boolean = try {
        val connection = URI("$route/healthz").toURL().openConnection() as HttpURLConnection
        connection.connectTimeout = 1000
        connection.responseCode == 200
    } catch (e: Exception) {
        false
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly()
    }

    private fun freePort(): Int = ServerSocket(0).use { it.localPort }
}
