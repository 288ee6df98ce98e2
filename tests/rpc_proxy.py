"""A JSON-RPC proxy in front of a real node: slow, hung, or just counting calls."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


class RpcProxy:
    """Forwards JSON-RPC to ``upstream`` after ``delay_s``; with ``None``, never answers."""

    def __init__(self, upstream: str, delay_s: float | None) -> None:
        self.upstream, self.delay_s = upstream, delay_s
        self.released = threading.Event()
        self.calls = 0
        self.methods: list[str] = []  # every JSON-RPC method asked for, in order
        self.call_data: list[str] = []  # the input data of every eth_call, in order
        self._count = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy._count:
                    proxy.calls += 1
                    proxy.methods.extend(_methods(body))
                    proxy.call_data.extend(_call_data(body))
                if proxy.delay_s is None:
                    proxy.released.wait()  # hung: hold the connection, say nothing
                    return
                proxy.released.wait(proxy.delay_s)
                reply = requests.post(
                    proxy.upstream,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
                self.send_response(reply.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RpcProxy:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def _calls(body: bytes) -> list[dict[str, Any]]:
    try:
        message = json.loads(body)
    except ValueError:
        return []
    calls = message if isinstance(message, list) else [message]
    return [c for c in calls if isinstance(c, dict)]


def _methods(body: bytes) -> list[str]:
    """The methods of a JSON-RPC request or batch."""
    return [str(c.get("method")) for c in _calls(body)]


def _call_data(body: bytes) -> list[str]:
    """The input data (0x-hex) of each eth_call of a request or batch."""
    found = []
    for call in _calls(body):
        params = call.get("params") or [{}]
        if call.get("method") == "eth_call" and isinstance(params[0], dict):
            found.append(str(params[0].get("data") or params[0].get("input") or ""))
    return found
