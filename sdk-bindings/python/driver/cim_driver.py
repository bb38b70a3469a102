#!/usr/bin/env python3
"""The conformance driver of the Python SDK (spec/v1/driver.md).

    cim-conformance client -- python3 sdk-bindings/python/driver/cim_driver.py

JSON-line commands on standard input become calls of `cim.Client`, and what the client
reports becomes event lines on standard output. It decides nothing itself: every behaviour
the harness sees is the SDK's. With CIM_CONFORMANCE_CONNECT=host:port it connects to a
harness started with `--listen` instead, once per case (driver.md §1.2).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, Callable, Optional

import cim

Emit = Callable[[dict], None]


class Session:
    """The client of one `login` command, owned by its task."""

    def __init__(self, route: str, command: dict, emit: Emit) -> None:
        self.emit = emit
        self.queue: asyncio.Queue[Optional[dict]] = asyncio.Queue()
        self.task = asyncio.ensure_future(self.run(route, command))

    async def run(self, route: str, command: dict) -> None:
        try:
            client = await cim.Client.login(
                route,
                command.get("user_name", ""),
                command.get("password", ""),
                device_id=command.get("device_id", ""),
                transport=command.get("transport", "tcp"),
                trust_pem=command.get("trust_pem"),
            )
        except cim.CimError as e:
            self.emit({"event": "login_failed", "code": e.code, "message": str(e)})
            return
        pump = asyncio.ensure_future(self.pump(client))
        # Commands given before the session was up waited in the queue, as an app's would.
        while (item := await self.queue.get()) is not None:
            self.handle(client, item)
        await client.close()
        self.emit({"event": "closed", "message": "closed by the driver"})
        pump.cancel()

    def handle(self, client: cim.Client, command: dict) -> None:
        if command["cmd"] == "online_users":
            asyncio.ensure_future(self.online_users(client))
            return
        to = command.get("to") or {}
        target: dict[str, Any]
        if "user_id" in to:
            target = {"to_user": to["user_id"]}
        elif "group_id" in to:
            target = {"to_group": to["group_id"]}
        else:
            target = {"everyone": True}
        send = client.send(body=command.get("body", ""), content_type=command.get("content_type", ""), **target)
        asyncio.ensure_future(self.report_send(command.get("ref", ""), send))

    async def report_send(self, ref: str, send: Any) -> None:
        try:
            ack = await send
            self.emit({"event": "sent", "ref": ref, "message_id": ack.message_id, "duplicate": ack.duplicate})
        except cim.CimError as e:
            self.emit({"event": "send_failed", "ref": ref, "code": e.code, "message": str(e)})

    async def online_users(self, client: cim.Client) -> None:
        try:
            users = await client.online_users()
            self.emit({"event": "online_users", "user_ids": [u.user_id for u in users]})
        except cim.CimError as e:
            self.emit({"event": "call_failed", "cmd": "online_users", "code": e.code, "message": str(e)})

    async def pump(self, client: cim.Client) -> None:
        async for event in client.events():
            if isinstance(event, cim.Connected):
                self.emit({"event": "connected", "session_id": event.session_id})
            elif isinstance(event, cim.Message):
                self.emit({
                    "event": "message", "message_id": event.message_id, "from_user_id": event.from_user_id,
                    "seq": event.seq, "content_type": event.content_type, "body": event.text,
                })
            elif isinstance(event, cim.MessagesLost):
                self.emit({"event": "messages_lost", "reason": event.reason})
            elif isinstance(event, cim.Disconnected):
                self.emit({"event": "disconnected", "message": event.reason})
            elif isinstance(event, cim.Closed):
                self.emit({"event": "closed", "message": event.reason})

    async def close(self) -> None:
        """Closes the client, even one still logging in (spec DRV-3-4)."""
        self.queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 3)
        except asyncio.TimeoutError:
            self.task.cancel()
            self.emit({"event": "closed", "message": "closed by the driver while logging in"})


async def serve(lines: asyncio.StreamReader, emit: Emit, route: str) -> None:
    """Speaks the driver contract until `close` or the end of the commands."""
    emit({"event": "ready"})
    session: Optional[Session] = None
    while line := await lines.readline():
        try:
            command = json.loads(line)
            cmd = command["cmd"]
        except (ValueError, KeyError, TypeError):
            emit({"event": "unsupported", "cmd": "", "message": "not a JSON command"})
            continue
        if cmd == "login":
            if command.get("transport", "tcp") not in ("tcp", "websocket"):
                emit({"event": "unsupported", "cmd": "login", "message": "unknown transport"})
                continue
            if session is not None:
                await session.close()
            session = Session(route, command, emit)
        elif cmd in ("send", "online_users"):
            if session is None:
                emit({"event": "unsupported", "cmd": cmd, "message": f"{cmd} before login"})
            else:
                session.queue.put_nowait(command)
        elif cmd == "close":
            break
        else:
            emit({"event": "unsupported", "cmd": cmd, "message": "this driver does not know the command"})
    if session is not None:
        await session.close()


async def main() -> None:
    loop = asyncio.get_running_loop()
    harness = os.environ.get("CIM_CONFORMANCE_CONNECT")
    if harness is None:
        reader = asyncio.StreamReader(limit=1 << 24)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

        def emit(event: dict) -> None:
            sys.stdout.write(json.dumps(event) + "\n")
            sys.stdout.flush()

        await serve(reader, emit, os.environ.get("CIM_CONFORMANCE_ROUTE", ""))
        return
    host, _, port = harness.rpartition(":")
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 24)
        except OSError:
            return  # the harness is gone (spec DRV-1-7)
        start = json.loads(await reader.readline() or b"{}")

        def emit(event: dict, writer: asyncio.StreamWriter = writer) -> None:
            writer.write((json.dumps(event) + "\n").encode())

        await serve(reader, emit, start.get("route", ""))
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
