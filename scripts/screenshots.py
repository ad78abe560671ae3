"""Take the README's screenshots of the chat page (light, dark, 360 px) from a running app.

    ./scripts/run-app.sh &                                   # DATA_DIR=data by default
    python -m scripts.screenshots --frontend http://localhost:3000 --backend http://localhost:8000 --data data

It signs in three people through the API (codes from the development outbox), gives
them a short conversation (with a link and a reply) and a group, and writes docs/chat-*.png
(1100 px light and dark, the phone's list and conversation at 360 px),
docs/group-panel.png (the group's info panel), docs/seen-by.png (who has read my latest
message in the group), docs/files-voice.png (a file and a voice message in the group) and
docs/my-data.png (the profile page: a ready export, and the account deletion's code step).
Other files' screenshots (docs/capacity.png) come from their benchmarks.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.support.browser import launch

ROOT = Path(__file__).resolve().parents[1]


def sign_in(api: str, data: Path, email: str, name: str) -> dict:
    login = httpx.post(f"{api}/login", json={"email": email}, timeout=10)
    login.raise_for_status()
    code = None
    for _ in range(50):
        for line in reversed((data / "outbox.jsonl").read_text().splitlines()):
            mail = json.loads(line)
            if mail["to"] == email:
                code = re.search(r"\b(\d{6})\b", mail["body"]).group(1)
                break
        if code:
            break
        time.sleep(0.1)
    proof = {"email": email, "otp": code, "challenge": login.json()["challenge"]}
    session = httpx.post(f"{api}/verify", json=proof, timeout=10).json()
    headers = {"Authorization": f"Bearer {session['token']}"}
    httpx.post(f"{api}/update/user", json={"name": name}, headers=headers, timeout=10).raise_for_status()
    return {"token": session["token"], "id": session["user"]["id"], "headers": headers}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frontend", default="http://localhost:3000")
    parser.add_argument("--backend", default="http://localhost:8000")
    parser.add_argument("--data", default="data", type=Path)
    parser.add_argument("--out", default=ROOT / "docs", type=Path)
    args = parser.parse_args()
    api = f"{args.backend}/api/v1"
    tag = uuid.uuid4().hex[:6]
    ada = sign_in(api, args.data, f"ada-{tag}@example.com", "Ada Lovelace")
    bob = sign_in(api, args.data, f"bob-{tag}@example.com", "Bob Marley")
    cyd = sign_in(api, args.data, f"cyd-{tag}@example.com", "Cyd Charisse")

    def post(who, path, body):
        return httpx.post(f"{api}{path}", json=body, headers=who["headers"], timeout=10).json()

    def upload(who, chat, field, part, client_id):  # a file or a voice message
        form = {"chatId": chat, "clientId": f"{client_id}{tag}"}
        files = {field: part}
        sent = httpx.post(f"{api}/message", data=form, files=files, headers=who["headers"], timeout=60)
        sent.raise_for_status()

    group = post(ada, "/chat/group", {"title": "Weekend trip", "memberIds": [bob["id"], cyd["id"]]})["id"]
    post(cyd, "/message", {"chatId": group, "text": "Train or car?", "clientId": f"g1{tag}"})
    upload(cyd, group, "file", ("Timetable 2026.pdf", b"%PDF-1.4\n" + b"0" * 48_000, "application/pdf"), "g3")
    voice = (ROOT / "tests/fixtures/voice-opus.webm").read_bytes()
    upload(bob, group, "voice", ("voice.webm", voice, "audio/webm"), "g4")
    # Ada's last: Bob reads it (his page opens the group below), Cyd has not (seen-by.png).
    post(ada, "/message", {"chatId": group, "text": "Train! We can play cards 🃏", "clientId": f"g2{tag}"})
    chat = post(ada, "/chat/new", {"otherUserId": bob["id"]})["chatId"]
    lines = [  # (who, text, the seq it answers)
        (bob, "Morning! Did you see the draft I sent yesterday?", None),
        (ada, "Yes, it looks great. Two small notes:\n• the header is a bit tall\n• check dark mode", None),
        (bob, "Good catch, fixing both now.", None),
        (bob, "Pushed to www.example.com/draft-2 👀 Have a look when you can", None),
        (ada, "On it! The header is much better 👍", 4),
    ]
    for n, (who, text, answers) in enumerate(lines):
        body = {"chatId": chat, "text": text, "clientId": f"c{n}{tag}"}
        if answers:
            body["replyTo"] = answers
        post(who, "/message", body)

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        watcher = browser.new_context()
        watcher.add_cookies([{"name": "chat_session", "value": bob["token"], "url": args.frontend}])
        bob_page = watcher.new_page()
        bob_page.goto(f"{args.frontend}/chat/{group}")  # Bob has read the group (Cyd has not)
        bob_page.wait_for_function("document.getElementById('signed-in-name')?.textContent", timeout=30_000)
        bob_page.wait_for_timeout(1500)
        bob_page.goto(f"{args.frontend}/chat/{chat}")  # Bob is online, and has read it all
        shots = [
            ("chat-light.png", {"width": 1100, "height": 640}, "light", f"/chat/{chat}"),
            ("chat-dark.png", {"width": 1100, "height": 640}, "dark", f"/chat/{chat}"),
            ("chat-360-list.png", {"width": 360, "height": 700}, "light", "/chat"),
            ("chat-360.png", {"width": 360, "height": 700}, "dark", f"/chat/{chat}"),
            ("group-panel.png", {"width": 1280, "height": 640}, "light", f"/chat/{group}"),
            ("seen-by.png", {"width": 1100, "height": 520}, "dark", f"/chat/{group}"),
            ("files-voice.png", {"width": 1100, "height": 560}, "light", f"/chat/{group}"),
            ("my-data.png", {"width": 1100, "height": 760}, "light", "/profile"),
        ]
        for name, viewport, scheme, path in shots:
            context = browser.new_context(viewport=viewport, color_scheme=scheme, device_scale_factor=1)
            context.add_cookies([{"name": "chat_session", "value": ada["token"], "url": args.frontend}])
            page = context.new_page()
            page.goto(f"{args.frontend}{path}")
            # Wait for the signed-in page (a cold first load takes longer than a fixed pause).
            page.wait_for_function("document.getElementById('signed-in-name')?.textContent", timeout=30_000)
            page.wait_for_timeout(1500)
            if name == "group-panel.png":
                page.click("#chat-info-open")
                page.wait_for_selector("#chat-info .info-member", timeout=10_000)
                page.wait_for_timeout(800)
            if name == "my-data.png":
                page.click("#start-export")
                page.wait_for_selector("#export-download", timeout=30_000)
                page.click("#delete-account")
                page.click("#mail-deletion-code")
                page.wait_for_selector("#deletion-code", timeout=10_000)
                page.wait_for_timeout(500)
            if name == "seen-by.png":
                page.click("#seen-by")
                page.wait_for_selector("#seen-list", timeout=10_000)
                page.wait_for_timeout(500)
            page.screenshot(path=str(args.out / name))
            context.close()
            print(f"wrote {args.out / name}")
        browser.close()


if __name__ == "__main__":
    main()
