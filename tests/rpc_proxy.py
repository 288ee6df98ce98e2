"""A JSON-RPC proxy in front of a real node: slow, hung, gated, or just counting calls."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


class RpcProxy:
    """Forwards JSON-RPC to ``upstream`` after ``delay_s``; with ``None``, never answers.

    ``gated=True`` holds every call until the test lets it through with
    :meth:`let_one_through`: the test then knows, without timing anything,
    that the client is waiting on the node while it acts.
    """

    def __init__(self, upstream: str, delay_s: float | None, *, gated: bool = False) -> None:
        self.upstream, self.delay_s = upstream, delay_s
        self.released = threading.Event()
        self.gate = threading.Semaphore(0) if gated else None
        self.calls = 0
        self.held = 0  # calls waiting at the gate now
        self.answered = 0  # calls answered so far
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
                if proxy.gate is not None:
                    with proxy._count:
                        proxy.held += 1
                    proxy.gate.acquire()
                    with proxy._count:
                        proxy.held -= 1
                elif proxy.delay_s is None:
                    proxy.released.wait()  # hung: hold the connection, say nothing
                    return
                else:
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
                # the client may have given up waiting (a timeout, or it was killed)
                with contextlib.suppress(OSError):
                    self.wfile.write(reply.content)
                with proxy._count:
                    proxy.answered += 1

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

    def let_one_through(self) -> None:
        """Answer the next held call (or the next call to come)."""
        assert self.gate is not None, "not a gated proxy"
        self.gate.release()

    def __exit__(self, *_exc: Any) -> None:
        self.released.set()
        if self.gate is not None:
            for _ in range(1000):  # nobody is held forever once the test is done
                self.gate.release()
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
