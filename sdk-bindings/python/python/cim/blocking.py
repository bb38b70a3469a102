"""A blocking wrapper of :class:`cim.Client` for scripts that do not use asyncio::

    from cim.blocking import Client

    with Client.login("http://127.0.0.1:8083", "alice", "secret-pw") as alice:
        alice.send_to_user("bob", "hi")
        event = alice.next_event(timeout=5)

Each client runs the asyncio client on an event loop of its own, in a background thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any, Coroutine, Literal, Optional, TypeVar, Union

import cim

T = TypeVar("T")


class _Loop:
    """An event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="cim-blocking", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: Optional[float] = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def register(route: str, user: str, password: str) -> str:
    """Creates a built-in account; returns its user id. See :func:`cim.register`."""
    return asyncio.run(cim.register(route, user, password))


class Client:
    """A logged-in user, blocking. Create with :meth:`login`; a context manager closes it."""

    def __init__(self, loop: _Loop, client: cim.Client) -> None:
        self._loop = loop
        self._client = client

    @classmethod
    def login(
        cls,
        route: str,
        user: Optional[str] = None,
        password: Optional[str] = None,
        *,
        jwt: Optional[str] = None,
        device_id: Optional[str] = None,
        transport: Literal["tcp", "websocket"] = "tcp",
        trust_pem: Optional[str] = None,
        connect_timeout: Optional[float] = None,
    ) -> Client:
        """Logs in and waits for the first session. See :meth:`cim.Client.login`."""
        loop = _Loop()
        try:
            client = loop.run(
                cim.Client.login(
                    route,
                    user,
                    password,
                    jwt=jwt,
                    device_id=device_id,
                    transport=transport,
                    trust_pem=trust_pem,
                    connect_timeout=connect_timeout,
                )
            )
        except BaseException:
            loop.stop()
            raise
        return cls(loop, client)

    @property
    def user_id(self) -> str:
        """The logged-in user's id."""
        return self._client.user_id

    def send_to_user(self, user_id: str, text: str) -> cim.SendAck:
        """Sends a text message to one user; returns once the server has stored it."""
        return self._loop.run(self._client.send_to_user(user_id, text))

    def send_to_group(self, group_id: str, text: str) -> cim.SendAck:
        """Sends a text message to a group."""
        return self._loop.run(self._client.send_to_group(group_id, text))

    def broadcast(self, text: str) -> cim.SendAck:
        """Sends a text message to everyone online."""
        return self._loop.run(self._client.broadcast(text))

    def send(
        self,
        *,
        to_user: Optional[str] = None,
        to_group: Optional[str] = None,
        everyone: bool = False,
        body: Union[bytes, str],
        content_type: str = "text/plain",
    ) -> cim.SendAck:
        """Sends any body. See :meth:`cim.Client.send`."""
        return self._loop.run(
            self._client.send(
                to_user=to_user, to_group=to_group, everyone=everyone, body=body, content_type=content_type
            )
        )

    def user_id_of(self, user_name: str) -> str:
        """The id of the one user named ``user_name`` (see :meth:`cim.Client.user_id_of`)."""
        return self._loop.run(self._client.user_id_of(user_name))

    def online_users(self) -> list[cim.User]:
        """Every user online now."""
        return self._loop.run(self._client.online_users())

    def next_event(self, timeout: Optional[float] = None) -> Optional[cim.Event]:
        """The next event; ``None`` once closed. Raises ``TimeoutError`` after ``timeout`` s."""
        try:
            return self._loop.run(asyncio.wait_for(self._client.next_event(), timeout))
        except asyncio.TimeoutError:
            raise TimeoutError(f"no event within {timeout} s") from None

    def events(self) -> Iterator[cim.Event]:
        """The events in order, until the client is closed."""
        while (event := self.next_event()) is not None:
            yield event

    def close(self) -> None:
        """Closes the client and its event loop."""
        try:
            self._loop.run(self._client.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
