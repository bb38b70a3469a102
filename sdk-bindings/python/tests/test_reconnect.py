"""A client outlives its node: it reconnects by itself when the node comes back."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Callable

import cim
from conftest import JWT_SECRET, cim_up_args, start_cim_up, stop


def jwt_for(user: str) -> str:
    """An HS256 JWT of the application's backend for `user`."""
    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=")  # noqa: E731
    claims = {"sub": user, "exp": int(time.time()) + 3600}
    signed = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(json.dumps(claims).encode())
    signature = hmac.new(JWT_SECRET.encode(), signed, hashlib.sha256).digest()
    return (signed + b"." + b64(signature)).decode()


def test_a_client_reconnects_and_reports_lost_messages_after_a_node_restart(tmp_path, name: Callable[[str], str]) -> None:
    args, route = cim_up_args()
    log = tmp_path / "cim-up.log"
    node = start_cim_up(args, log, route)

    async def main() -> None:
        nonlocal node
        # JWT logins: the restarted node, whose memory is empty, knows the users again.
        alice = await cim.Client.login(route, jwt=jwt_for(name("alice")))
        bob = await cim.Client.login(route, jwt=jwt_for(name("bob")))
        await alice.send_to_user(bob.user_id, "before")
        seen: list[cim.Event] = []

        async def until(kind: type, count: int = 1) -> None:
            while sum(isinstance(e, kind) for e in seen) < count:
                event = await bob.next_event()
                assert event is not None, f"events ended: {seen}"
                seen.append(event)

        await asyncio.wait_for(until(cim.Message), 10)
        stop(node)
        await asyncio.wait_for(until(cim.Disconnected), 15)
        node = start_cim_up(args, log, route)
        # The node is new: bob reconnects, and is told the inbox it knew is gone.
        await asyncio.wait_for(until(cim.Connected, 2), 30)
        await asyncio.wait_for(until(cim.MessagesLost), 10)
        # Alice reconnected too: messages flow again.
        await asyncio.wait_for(alice.send_to_user(bob.user_id, "after"), 30)
        await asyncio.wait_for(until(cim.Message, 2), 10)
        texts = [e.text for e in seen if isinstance(e, cim.Message)]
        assert texts == ["before", "after"], seen
        await alice.close()
        await bob.close()

    try:
        asyncio.run(main())
    finally:
        stop(node)
