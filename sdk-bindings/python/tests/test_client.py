"""The Python SDK against a live `cim up`: login, one-to-one, group, broadcast, resume, errors."""

from __future__ import annotations

import asyncio
import datetime
from typing import Callable, Optional

import pytest

import cim
import cim.blocking

PASSWORD = "python-sdk-pw"


async def logged_in(route: str, user: str, device: str = "d1") -> cim.Client:
    try:
        await cim.register(route, user, PASSWORD)
    except cim.RejectedError as e:
        assert e.code_name == "ALREADY_EXISTS"
    return await cim.Client.login(route, user, PASSWORD, device_id=device)


async def next_message(client: cim.Client, timeout: float = 10) -> cim.Message:
    async def wait() -> cim.Message:
        async for event in client.events():
            if isinstance(event, cim.Message):
                return event
        raise AssertionError("the client closed before a message came")

    return await asyncio.wait_for(wait(), timeout)


def test_one_to_one_message_arrives_with_sender_and_text(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        async with await logged_in(node.route, name("alice")) as alice, await logged_in(
            node.route, name("bob")
        ) as bob:
            connected = await alice.next_event()
            assert isinstance(connected, cim.Connected) and connected.resumed == "fresh"
            status = alice.status
            assert isinstance(status, cim.Status)
            assert (status.state, status.user_id) == ("connected", alice.user_id) and status.session_id
            ack = await alice.send_to_user(bob.user_id, "hi bob")
            assert isinstance(ack, cim.SendAck)
            assert ack.message_id and not ack.duplicate
            message = await next_message(bob)
            assert (message.from_user_id, message.text, message.to_kind) == (alice.user_id, "hi bob", "user")
            assert message.message_id == ack.message_id
            assert message.body == b"hi bob" and isinstance(message.body, bytes)
            # Typed values: read-only, comparable, and shown like dataclasses.
            assert message == cim.Message(
                message.seq,
                message.message_id,
                message.from_user_id,
                "user",
                bob.user_id,
                "text/plain",
                b"hi bob",
                message.sent_at_ms,
            )
            assert repr(ack) == f"SendAck(message_id={ack.message_id!r}, duplicate=False)"
            with pytest.raises(AttributeError):
                message.seq = 0

    asyncio.run(main())


def test_connect_in_async_with_and_handlers_that_run_until_closed(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        alice_name, bob_name = name("alice"), name("bob")
        for user in (alice_name, bob_name):
            await cim.register(node.route, user, PASSWORD)
        before = datetime.datetime.now(datetime.timezone.utc)
        # No `await` inside `async with`; awaiting it works too.
        async with cim.connect(node.route, alice_name, PASSWORD, device_id="d1") as alice:
            bob = await cim.connect(node.route, bob_name, PASSWORD, device_id="d1")
            got: list[cim.Message] = []
            kinds: list[str] = []

            @bob.on_event
            def note(event: cim.Event) -> None:
                kinds.append(type(event).__name__)

            @bob.on_message
            async def take(message: cim.Message) -> None:
                got.append(message)
                if len(got) == 2:
                    await bob.close()

            await alice.send_to_user(bob.user_id, "one")
            await alice.send_to_user(bob.user_id, "two")
            await asyncio.wait_for(bob.run(), 10)
            assert [m.text for m in got] == ["one", "two"]
            assert kinds[0] == "Connected" and kinds.count("Message") == 2
            sent_at = got[0].sent_at
            assert sent_at.tzinfo is not None and sent_at.utcoffset() == datetime.timedelta(0)
            assert round(sent_at.timestamp() * 1000) == got[0].sent_at_ms
            assert before - datetime.timedelta(seconds=5) <= sent_at <= datetime.datetime.now(
                datetime.timezone.utc
            ) + datetime.timedelta(seconds=5)
        assert alice.status.state == "closed"

    asyncio.run(main())


def test_names_are_looked_up_exactly(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        async with await logged_in(node.route, name("erin")) as erin, await logged_in(
            node.route, name("erin2")
        ) as erin2:
            # Exactly the name, not every name it starts.
            assert await erin2.user_id_of(name("erin")) == erin.user_id
            with pytest.raises(cim.RejectedError) as nobody:
                await erin.user_id_of(name("nobody"))
            assert nobody.value.code_name == "NOT_FOUND"

    asyncio.run(main())


def test_group_message_reaches_members_but_not_those_who_left(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        alice = await logged_in(node.route, name("alice"))
        bob = await logged_in(node.route, name("bob"))
        carol = await logged_in(node.route, name("carol"))
        group = await alice.create_group(name("team"))
        assert group.member_count == 1
        # Nobody is made a member by someone else: bob joins himself.
        assert (await bob.join_group(group.group_id)).member_count == 2
        await carol.join_group(group.group_id)
        assert [g.group_id for g in await carol.groups()] == [group.group_id]
        await alice.send_to_group(group.group_id, "one")
        for member in (bob, carol):
            message = await next_message(member)
            assert (message.to_kind, message.to, message.text) == ("group", group.group_id, "one")
        await carol.leave_group(group.group_id)
        await alice.send_to_group(group.group_id, "two")
        assert (await next_message(bob)).text == "two"
        with pytest.raises(asyncio.TimeoutError):
            await next_message(carol, timeout=1)
        for client in (alice, bob, carol):
            await client.close()

    asyncio.run(main())


def test_broadcast_reaches_everyone_online(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        async with await logged_in(node.route, name("alice")) as alice, await logged_in(
            node.route, name("bob")
        ) as bob:
            online = {u.user_id for u in await alice.online_users()}
            assert {alice.user_id, bob.user_id} <= online
            await alice.broadcast("hello all")
            message = await next_message(bob)
            assert (message.to_kind, message.text) == ("everyone", "hello all")

    asyncio.run(main())


def test_messages_sent_while_offline_arrive_once_on_the_next_login(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        alice = await logged_in(node.route, name("alice"))
        bob = await logged_in(node.route, name("bob"))
        await alice.send_to_user(bob.user_id, "first")
        assert (await next_message(bob)).text == "first"
        await bob.close()
        # After close the events drain and end.
        while await asyncio.wait_for(bob.next_event(), 5) is not None:
            pass
        await alice.send_to_user(bob.user_id, "while you were away")
        # The same device logs in again: it resumes after "first".
        bob = await cim.Client.login(node.route, name("bob"), PASSWORD, device_id="d1")
        again = await next_message(bob)
        assert again.text == "while you were away"
        with pytest.raises(asyncio.TimeoutError):
            await next_message(bob, timeout=1)
        await alice.close()
        await bob.close()

    asyncio.run(main())


def test_errors_carry_registry_codes_and_builtin_bases(node, name: Callable[[str], str]) -> None:
    async def main() -> None:
        user = name("dora")
        await cim.register(node.route, user, PASSWORD)
        with pytest.raises(cim.RejectedError) as taken:
            await cim.register(node.route, user, PASSWORD)
        assert taken.value.code_name == "ALREADY_EXISTS" and taken.value.code > 0
        with pytest.raises(PermissionError) as wrong:
            await cim.Client.login(node.route, user, "not-the-password")
        assert isinstance(wrong.value, cim.AuthenticationError)
        assert wrong.value.code_name == "INVALID_CREDENTIALS"
        with pytest.raises(ConnectionError) as unreachable:
            await cim.Client.login("http://127.0.0.1:9", user, PASSWORD, connect_timeout=2)
        assert isinstance(unreachable.value, cim.UnavailableError)
        async with await cim.Client.login(node.route, user, PASSWORD) as dora:
            with pytest.raises(cim.RejectedError) as unknown:
                await dora.send_to_user(name("nobody"), "hello?")
            assert unknown.value.code_name == "UNKNOWN_RECIPIENT"
            with pytest.raises(ValueError):
                await dora.send(to_user="x", everyone=True, body="two targets")
        with pytest.raises(cim.ClosedError):
            await dora.send_to_user(user, "after close")

    asyncio.run(main())


def test_the_blocking_client_works_without_asyncio(node, name: Callable[[str], str]) -> None:
    alice_name, bob_name = name("alice"), name("bob")
    cim.blocking.register(node.route, alice_name, PASSWORD)
    cim.blocking.register(node.route, bob_name, PASSWORD)
    with cim.blocking.Client.login(node.route, alice_name, PASSWORD) as alice, cim.blocking.Client.login(
        node.route, bob_name, PASSWORD
    ) as bob:
        alice.send_to_user(bob.user_id, "no asyncio here")
        event: Optional[cim.Event] = None
        while not isinstance(event, cim.Message):
            event = bob.next_event(timeout=10)
        assert event.text == "no asyncio here"
        with pytest.raises(TimeoutError):
            bob.next_event(timeout=0.5)


def test_a_script_that_exits_with_an_event_pending_exits_cleanly(node, name: Callable[[str], str]) -> None:
    """Native futures still pending at exit must not abort the interpreter as it finalizes."""
    import subprocess
    import sys
    import textwrap

    erin, frank = name("erin"), name("frank")
    script = textwrap.dedent(
        f"""
        import asyncio, cim

        async def pump(client):
            async for event in client.events():
                pass

        async def main():
            for user in ({erin!r}, {frank!r}):
                await cim.register({node.route!r}, user, "pw-erin-123")
            erin = await cim.Client.login({node.route!r}, {erin!r}, "pw-erin-123")
            frank = await cim.Client.login({node.route!r}, {frank!r}, "pw-erin-123")
            reading = asyncio.ensure_future(pump(frank))
            await asyncio.gather(*(erin.send_to_user(frank.user_id, str(i)) for i in range(50)))
            await frank.close()
            reading.cancel()
            # Leaves at once: erin is never closed, frank's cancelled read still finishes natively.

        asyncio.run(main())
        print("done")
        """
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "done"
    assert "Fatal Python error" not in finished.stderr


# A client process that takes its first message, then stops reading and waits to be killed.
_TAKES_ONE_THEN_HANGS = """
import asyncio, sys, cim

async def main():
    route, user, password = sys.argv[1:4]
    client = await cim.Client.login(route, user, password, device_id="crashing-phone")
    print("ready", flush=True)
    async for event in client.events():
        if isinstance(event, cim.Message):
            print("took", event.text, flush=True)
            break
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_message_the_application_never_took_comes_again_after_a_crash(node, name: Callable[[str], str]) -> None:
    import subprocess
    import sys
    import time

    bob_name = name("bob")
    asyncio.run(cim.register(node.route, bob_name, PASSWORD))
    child = subprocess.Popen(
        [sys.executable, "-c", _TAKES_ONE_THEN_HANGS, node.route, bob_name, PASSWORD],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:

        async def send(text: str) -> None:
            async with await logged_in(node.route, name("alice")) as alice:
                bob_id = await alice.user_id_of(bob_name)
                await alice.send_to_user(bob_id, text)

        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        asyncio.run(send("taken"))
        assert child.stdout.readline().strip() == "took taken"
        asyncio.run(send("arrived, never taken"))
        # Long enough for the client to have acknowledged it, had it counted arrival as taking.
        time.sleep(2)
    finally:
        child.kill()
        child.wait()

    async def after_restart() -> None:
        async with await cim.Client.login(node.route, bob_name, PASSWORD, device_id="crashing-phone") as bob:
            message = await next_message(bob)
            assert message.text == "arrived, never taken"

    asyncio.run(after_restart())
