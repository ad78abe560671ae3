"""`python -m mailer.dev_smtp`: a local SMTP server that prints each mail's text part.

For trying the worker by hand: mail parts arrive base64-encoded, which aiosmtpd's own
debugging server prints as is. Not for production.
"""

from __future__ import annotations

import argparse
import email
import time
from email import policy

from aiosmtpd.controller import Controller


class PrintingHandler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content().strip() if body else "(no text part)"
        print(f"--- mail to {', '.join(envelope.rcpt_tos)}: {message['subject']}\n{text}\n", flush=True)
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    controller = Controller(PrintingHandler(), hostname=args.host, port=args.port)
    controller.start()
    print(f"dev SMTP server on {args.host}:{args.port}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
