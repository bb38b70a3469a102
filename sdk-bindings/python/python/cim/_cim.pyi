# Type stubs of the native module. The documented API is cim.Client (cim/__init__.py); the
# classes below are the values it hands out, re-exported there.
import asyncio
import datetime
from typing import Literal, Optional, Union

__version__: str

def _shutdown(timeout: float) -> None: ...
def register(route: str, user: str, password: str) -> asyncio.Future[str]: ...

class SendAck:
    """The server stored a message (or, for a broadcast, handed it to the live sessions)."""

    message_id: str
    """The id the server gave the message."""
    duplicate: bool
    """True when the server had it already (a retransmission): nothing was stored twice."""
    def __init__(self, message_id: str, duplicate: bool) -> None: ...

class User:
    """A user, as listed by :meth:`cim.Client.online_users`."""

    user_id: str
    user_name: str
    def __init__(self, user_id: str, user_name: str) -> None: ...

class Group:
    """A group and how many members it has."""

    group_id: str
    member_count: int
    def __init__(self, group_id: str, member_count: int) -> None: ...

class Status:
    """The client's connection, as :attr:`cim.Client.status` reports it."""

    state: Literal["idle", "logging_in", "connecting", "connected", "reconnecting", "closed"]
    user_id: str
    session_id: str
    """The current session; empty until connected."""
    server_id: str
    """The server of the current session; empty until connected."""
    rtt: Optional[float]
    """Round-trip time of the last heartbeat, in seconds."""
    def __init__(
        self, state: str, user_id: str, session_id: str, server_id: str, rtt: Optional[float]
    ) -> None: ...

class Connected:
    """The session is up (again)."""

    session_id: str
    server_id: str
    resumed: Literal["fresh", "resumed", "epoch_changed", "gap"]
    """What became of the inbox position."""
    def __init__(self, session_id: str, server_id: str, resumed: str) -> None: ...

class Message:
    """A message arrived. ``seq`` orders the messages of this user's inbox."""

    seq: int
    message_id: str
    from_user_id: str
    to_kind: Literal["user", "group", "everyone"]
    to: str
    """The user or group it was sent to; empty for a broadcast."""
    content_type: str
    body: bytes
    sent_at_ms: int
    @property
    def text(self) -> str:
        """The body as UTF-8 text (invalid bytes replaced)."""
    @property
    def sent_at(self) -> datetime.datetime:
        """When the server accepted it, as an aware ``datetime`` in UTC."""
    def __init__(
        self,
        seq: int,
        message_id: str,
        from_user_id: str,
        to_kind: str,
        to: str,
        content_type: str,
        body: bytes,
        sent_at_ms: int,
    ) -> None: ...

class MessagesLost:
    """The inbox did not continue where this device left off: messages may be missing."""

    reason: Literal["epoch_changed", "gap"]
    epoch: int
    def __init__(self, reason: str, epoch: int) -> None: ...

class Disconnected:
    """The connection is gone; the client reconnects by itself after ``retry_in`` seconds."""

    reason: str
    retry_in: float
    code: Optional[int]
    """The registry code of the error that ended the connection, if one did."""
    def __init__(self, reason: str, retry_in: float, code: Optional[int]) -> None: ...

class Closed:
    """The client stopped for good; no event follows."""

    reason: str
    code: Optional[int]
    """The registry code of the fatal error that stopped it, if one did."""
    def __init__(self, reason: str, code: Optional[int]) -> None: ...

class NativeClient:
    @staticmethod
    def login(
        route: str,
        *,
        user: Optional[str] = ...,
        password: Optional[str] = ...,
        jwt: Optional[str] = ...,
        device_id: str,
        transport: str = ...,
        trust_pem: Optional[str] = ...,
        connect_timeout: Optional[float] = ...,
    ) -> asyncio.Future[NativeClient]: ...
    def user_id(self) -> str: ...
    def status(self) -> Status: ...
    def send(self, kind: str, target: str, content_type: str, body: bytes) -> asyncio.Future[SendAck]: ...
    def user_id_of(self, user_name: str) -> asyncio.Future[str]: ...
    def online_users(self) -> asyncio.Future[list[User]]: ...
    def create_group(self, group_id: str) -> asyncio.Future[Group]: ...
    def join_group(self, group_id: str, join: bool) -> asyncio.Future[Group]: ...
    def groups(self) -> asyncio.Future[list[Group]]: ...
    def next_event(
        self,
    ) -> asyncio.Future[Optional[Union[Connected, Message, MessagesLost, Disconnected, Closed]]]: ...
    def close(self) -> asyncio.Future[None]: ...
