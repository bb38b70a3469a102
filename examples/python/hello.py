"""Two users say hello through a cim node.

    cim up &                      # or any deployment
    python examples/python/hello.py http://127.0.0.1:8083
"""

import asyncio
import sys
import uuid

import cim


async def main(route: str) -> None:
    suffix = uuid.uuid4().hex[:6]
    alice_name, bob_name = f"alice-{suffix}", f"bob-{suffix}"
    for name in (alice_name, bob_name):
        await cim.register(route, name, "correct horse battery")
    async with cim.connect(route, alice_name, "correct horse battery") as alice, \
            cim.connect(route, bob_name, "correct horse battery") as bob:
        await alice.send_to_user(bob.user_id, "hello from Python")
        async for event in bob.events():
            if isinstance(event, cim.Message):
                print(f"{bob_name} got {event.text!r} from {event.from_user_id}")
                break


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8083"))
