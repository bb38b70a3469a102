"""cim: the Python SDK of the cim instant-messaging system.

It runs the same Rust core as every cim SDK, so it reconnects, resumes its inbox, drops
duplicates and keeps order exactly as they do. The API is asyncio::

    import asyncio, cim

    async def main() -> None:
        await cim.register("http://127.0.0.1:8083", "alice", "secret-pw")
        async with cim.connect("http://127.0.0.1:8083", "alice", "secret-pw") as alice:
            await alice.send_to_user("bob", "hi")
            async for event in alice.events():
                if isinstance(event, cim.Message):
                    print(event.from_user_id, event.text)

    asyncio.run(main())

Scripts that do not use asyncio have :mod:`cim.blocking`. Errors are :mod:`cim.errors`.
"""

from __future__ import annotations

import atexit
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Generator
from types import TracebackType
from typing import Any, Callable, Literal, Optional, TypeVar, Union

from . import errors
# The values the API hands out are typed, frozen classes of the native module, each
# mapping one type of the Rust SDK: nothing here converts them again.
from ._cim import (
    Closed,
    Connected,
    Disconnected,
    Group,
    Message,
    MessagesLost,
    SendAck,
    Status,
    User,
)
from ._cim import NativeClient as _NativeClient
from ._cim import _shutdown
from ._cim import __version__
from ._cim import register as _register
from .errors import (
    AuthenticationError,
    CimError,
    ClosedError,
    InvalidInputError,
    RejectedError,
    UnavailableError,
)


# Native futures must resolve before the interpreter finalizes: close every client at exit.
atexit.register(_shutdown, 2.0)


Event = Union[Connected, Message, MessagesLost, Disconnected, Closed]
"""What :meth:`Client.events` yields."""

_E = TypeVar("_E")
Handler = Callable[[_E], Union[None, Awaitable[None]]]
"""A function, plain or ``async``, that :meth:`Client.run` calls with each event of its kind."""


class _Connecting:
    """What :func:`connect` returns: await it for a :class:`Client`, or use it in
    ``async with`` to have the client closed on exit."""

    def __init__(self, login: Callable[[], Awaitable[Client]]) -> None:
        self._login = login
        self._client: Optional[Client] = None

    def __await__(self) -> Generator[Any, None, Client]:
        return self._login().__await__()

    async def __aenter__(self) -> Client:
        self._client = await self._login()
        return self._client

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._client is not None:
            await self._client.close()


def connect(
    route: str,
    user: Optional[str] = None,
    password: Optional[str] = None,
    *,
    jwt: Optional[str] = None,
    device_id: Optional[str] = None,
    transport: Literal["tcp", "websocket"] = "tcp",
    trust_pem: Optional[str] = None,
    connect_timeout: Optional[float] = None,
) -> _Connecting:
    """Logs in like :meth:`Client.login`, in the form ``async with`` takes::

        async with cim.connect("http://127.0.0.1:8083", "alice", "alice-password") as alice:
            ...

    ``client = await cim.connect(...)`` works too (then close it yourself).
    """
    return _Connecting(
        lambda: Client.login(
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


async def register(route: str, user: str, password: str) -> str:
    """Creates a built-in account at the route at ``route`` and returns its user id.

    Raises :class:`RejectedError` when the name is taken (code ``ALREADY_EXISTS``).
    """
    return await _register(route, user, password)


class Client:
    """A user logged in to cim. It reconnects and resumes by itself until :meth:`close`.

    Create one with :meth:`login`; use it as an async context manager to close it on exit.
    """

    def __init__(self, native: _NativeClient) -> None:
        """Wraps a native client; use :meth:`login` or :func:`connect` instead."""
        self._native = native
        self._message_handlers: list[Handler[Message]] = []
        self._event_handlers: list[Handler[Event]] = []

    @classmethod
    async def login(
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
        """Logs in at the route at ``route`` and waits until the first session is up.

        Give ``user`` and ``password`` for a built-in account, or ``jwt`` for a token of the
        application's own backend. ``device_id`` names this device (default: the host name);
        each device of a user has its own place in the inbox. ``trust_pem`` adds a
        certificate to trust for TLS. Raises :class:`AuthenticationError` for wrong
        credentials and :class:`UnavailableError` when the route or server cannot be reached.
        """
        native = await _NativeClient.login(
            route,
            user=user,
            password=password,
            jwt=jwt,
            device_id=device_id or f"py-{socket.gethostname()}",
            transport=transport,
            trust_pem=trust_pem,
            connect_timeout=connect_timeout,
        )
        return cls(native)

    @property
    def user_id(self) -> str:
        """The logged-in user's id."""
        return self._native.user_id()

    @property
    def status(self) -> Status:
        """The connection state (``"connected"``, ``"reconnecting"``, …), session, server and RTT."""
        return self._native.status()

    async def send_to_user(self, user_id: str, text: str) -> SendAck:
        """Sends a text message to one user; returns once the server has stored it."""
        return await self._send("user", user_id, "text/plain", text.encode())

    async def send_to_group(self, group_id: str, text: str) -> SendAck:
        """Sends a text message to every member of a group."""
        return await self._send("group", group_id, "text/plain", text.encode())

    async def broadcast(self, text: str) -> SendAck:
        """Sends a text message to everyone online: live only, never stored."""
        return await self._send("everyone", "", "text/plain", text.encode())

    async def send(
        self,
        *,
        to_user: Optional[str] = None,
        to_group: Optional[str] = None,
        everyone: bool = False,
        body: Union[bytes, str],
        content_type: str = "text/plain",
    ) -> SendAck:
        """Sends any body to exactly one of ``to_user``, ``to_group`` or ``everyone``.

        A message sent while the connection is down goes out after the reconnect; messages
        sent in turn arrive in that order.
        """
        chosen = [to_user is not None, to_group is not None, everyone]
        if sum(chosen) != 1:
            raise InvalidInputError("give exactly one of to_user, to_group or everyone=True")
        data = body.encode() if isinstance(body, str) else bytes(body)
        if to_user is not None:
            return await self._send("user", to_user, content_type, data)
        if to_group is not None:
            return await self._send("group", to_group, content_type, data)
        return await self._send("everyone", "", content_type, data)

    async def _send(self, kind: str, target: str, content_type: str, body: bytes) -> SendAck:
        return await self._native.send(kind, target, content_type, body)

    async def user_id_of(self, user_name: str) -> str:
        """The id of the one user named ``user_name``, looked up at the route.

        Send to user ids, never to names: ids are not names on every deployment. Raises
        :class:`RejectedError` with code ``NOT_FOUND`` when nobody has the name, and
        :class:`InvalidInputError` (a ``ValueError``) when several users share it: the choice
        is your user's.
        """
        return str(await self._native.user_id_of(user_name))

    async def online_users(self) -> list[User]:
        """Every user online now, all pages followed."""
        return await self._native.online_users()

    async def create_group(self, group_id: str) -> Group:
        """Creates a group with this user as its only member; others join it themselves
        (nobody is added to a group by someone else).

        Raises :class:`RejectedError` with code ``ALREADY_EXISTS`` when the id is in use.
        """
        return await self._native.create_group(group_id)

    async def join_group(self, group_id: str) -> Group:
        """Joins a group: its messages from now on reach this user."""
        return await self._native.join_group(group_id, True)

    async def leave_group(self, group_id: str) -> Group:
        """Leaves a group."""
        return await self._native.join_group(group_id, False)

    async def groups(self) -> list[Group]:
        """The groups this user belongs to."""
        return await self._native.groups()

    async def next_event(self) -> Optional[Event]:
        """The next event, or ``None`` once the client is closed and every event was read.

        A message is acknowledged to the server when this returns it: one that arrived but was
        never taken is delivered again after a crash, to a client that resumes.
        """
        return await self._native.next_event()

    async def events(self) -> AsyncIterator[Event]:
        """The events in order, until the client is closed::

        async for event in client.events():
            ...
        """
        while (event := await self.next_event()) is not None:
            yield event

    def on_message(self, handler: Handler[Message]) -> Handler[Message]:
        """Registers ``handler`` (plain or ``async``) for every :class:`Message`; usable as a
        decorator. :meth:`run` calls the handlers::

            @client.on_message
            async def show(message: cim.Message) -> None:
                print(message.from_user_id, message.text)

            await client.run()
        """
        self._message_handlers.append(handler)
        return handler

    def on_event(self, handler: Handler[Event]) -> Handler[Event]:
        """Registers ``handler`` for every event, messages included; see :meth:`on_message`."""
        self._event_handlers.append(handler)
        return handler

    async def run(self) -> None:
        """Takes the events in order and calls the registered handlers with each, until the
        client is closed (by :meth:`close`, from a handler or another task). A message counts
        as processed once its handlers returned; an exception from a handler ends ``run`` with
        it, and the message is delivered again to a client that resumes.
        """
        async for event in self.events():
            handlers: list[Handler[Any]] = list(self._event_handlers)
            if isinstance(event, Message):
                handlers += self._message_handlers
            for handler in handlers:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result

    async def close(self) -> None:
        """Closes the client: it stops reconnecting and unanswered sends fail."""
        await self._native.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<cim.Client user_id={self.user_id!r} state={self.status.state!r}>"


__all__ = [
    "Client",
    "connect",
    "register",
    "Handler",
    "SendAck",
    "Status",
    "User",
    "Group",
    "Event",
    "Connected",
    "Message",
    "MessagesLost",
    "Disconnected",
    "Closed",
    "errors",
    "CimError",
    "AuthenticationError",
    "UnavailableError",
    "RejectedError",
    "InvalidInputError",
    "ClosedError",
    "__version__",
]
