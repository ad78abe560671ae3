"""Follow your chats live from a script: sign in, stream events, resume after a drop.

    python -m examples.events_client --api http://localhost:8000/api/v1 --email you@example.com

It asks for the code that was mailed to you (in development: http://localhost:3000/dev/outbox),
then prints every message of your chats as it arrives. When the connection drops it
reconnects with `Last-Event-ID` and gets exactly what it missed; if it was away too long
(`resync`), it fetches everything new since its last sync with `GET /sync`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator

import httpx


def read_events(response: httpx.Response) -> Iterator[dict]:
    """Server-Sent Events from a streaming response: {"id"?, "event", "data"} each."""
    event: dict = {}
    for line in response.iter_lines():
        if not line:
            if "data" in event:
                event["data"] = json.loads(event["data"])
                yield event
            event = {}
        elif not line.startswith(":"):  # ": ping" comments keep the connection alive
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


def show(message: dict) -> None:
    print(f"[{message['chatId'][:6]} #{message['seq']}] {message['senderId'][:6]}: {message['text']}")


def follow(api: httpx.Client, token: str, stop_after: float | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    last_id, since, delay = None, api.get("/sync", headers=headers).json()["next"], 1.0
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            wanted = {**headers, **({"Last-Event-ID": last_id} if last_id else {})}
            with api.stream("GET", "/events", headers=wanted, timeout=httpx.Timeout(10, read=40)) as response:
                response.raise_for_status()
                delay = 1.0
                for event in read_events(response):
                    last_id = event.get("id", last_id)
                    if event["event"] == "message.new":
                        show(event["data"]["message"])
                    elif event["event"] == "resync":  # away too long: catch up in one call
                        page = api.get("/sync", params={"since": since}, headers=headers).json()
                        for chat in page["chats"]:
                            for message in chat["messages"]:
                                show(message)
                        since, last_id = page["next"], None
                    elif event["event"] == "session.ended":
                        print("signed out")
                        return
        except httpx.TransportError as exc:
            print(f"connection lost ({exc.__class__.__name__}); again in {delay:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="http://localhost:8000/api/v1")
    parser.add_argument("--email", required=True)
    args = parser.parse_args()
    with httpx.Client(base_url=args.api, timeout=10) as api:
        login = api.post("/login", json={"email": args.email})
        login.raise_for_status()
        code = input(f"The code mailed to {args.email}: ").strip()
        answer = {"email": args.email, "otp": code, "challenge": login.json()["challenge"]}
        session = api.post("/verify", json=answer)
        session.raise_for_status()
        follow(api, session.json()["token"])


if __name__ == "__main__":
    main()
