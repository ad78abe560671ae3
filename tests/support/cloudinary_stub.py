"""A local HTTP server standing in for Cloudinary's upload API (upload and destroy).

The SDK is pointed at it by configuration alone: CLOUDINARY_URL=cloudinary://key:secret@cloud
?upload_prefix=http://127.0.0.1:<port>. It records every request (fields and file) and
answers like Cloudinary: the public id within its folder and a res.cloudinary.com URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


@dataclass
class Call:
    path: str
    fields: dict[str, str]
    file: bytes | None


@dataclass
class Stub:
    url: str  # the upload_prefix
    calls: list[Call] = field(default_factory=list)


def signature(fields: dict[str, str], secret: str) -> str:
    """Cloudinary's request signature (SHA-1), computed here independently of the SDK: every
    parameter but file, api_key, resource_type, cloud_name and signature, sorted, as k=v joined
    by &, followed by the API secret."""
    skip = {"file", "api_key", "resource_type", "cloud_name", "signature"}
    payload = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in skip and v != "")
    return hashlib.sha1((payload + secret).encode()).hexdigest()


def _parse(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields, file = {}, None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name == "file":
            file = payload
        else:
            fields[name] = payload.decode()
    return fields, file


@contextlib.contextmanager
def running_stub() -> Iterator[Stub]:
    stub = Stub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fields, file = _parse(self.headers["Content-Type"], body)
            stub.calls.append(Call(self.path, fields, file))
            cloud = self.path.split("/")[2]
            if self.path.endswith("/image/upload"):
                with Image.open(io.BytesIO(file)) as image:
                    width, height = image.width, image.height
                    fmt = {"JPEG": "jpg"}.get(image.format, image.format.lower())  # as Cloudinary names it
                public_id = f"{fields['folder']}/{fields['public_id']}"
                answer = {
                    "public_id": public_id,
                    "secure_url": f"https://res.cloudinary.com/{cloud}/image/upload/v1/{public_id}.{fmt}",
                    "width": width,
                    "height": height,
                    "format": fmt,
                }
            elif self.path.endswith("/image/destroy"):
                answer = {"result": "ok"}
            else:
                self.send_error(404)
                return
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
