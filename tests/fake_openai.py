"""A fake OpenAI-compatible server on loopback that misbehaves on purpose."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _chunk(text: str, finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class FakeOpenAI:
    """Modes: ok, auth (401), rate_limit (429), server (500), hang (never answers), cut (stream
    stops halfway and the connection closes), endless (a chunk every 10 ms, never finished),
    echo_key (401 whose body echoes the key it was sent, as some proxies do), leak_key (an answer
    that spells the key out, split across chunks)."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.requests = 0
        self.key = ""
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                owner.requests += 1
                owner.key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _error(self, handler: BaseHTTPRequestHandler, status: int, kind: str, message: str) -> None:
        body = json.dumps({"error": {"message": message, "type": kind, "code": kind}}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _endless(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        # Until the client hangs up (the write fails) or the test ends: at most 60 s. Each
        # chunk differs, or litellm stops a stream that repeats one chunk 100 times.
        for count in range(6000):
            if self.release.is_set():
                return
            try:
                handler.wfile.write(_chunk(f"word{count} "))
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.01)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "auth":
            self._error(handler, 401, "invalid_api_key", "Incorrect API key provided")
        elif self.mode == "echo_key":
            message = f"Incorrect API key provided: {self.key}. Check your key and try again."
            self._error(handler, 401, "invalid_api_key", message)
        elif self.mode == "rate_limit":
            self._error(handler, 429, "rate_limit_exceeded", "Rate limit reached, slow down")
        elif self.mode == "server":
            self._error(handler, 500, "server_error", "The server had an error")
        elif self.mode == "hang":
            self.release.wait(30)
        elif self.mode == "endless":
            self._endless(handler)
        else:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.end_headers()
            words = ["Durable ", "writes ", "need ", "fsync ", "and ", "rename. "]
            if self.mode == "leak_key":
                third = len(self.key) // 3
                key = self.key
                words = ["Your key is ", key[:third], key[third : 2 * third], key[2 * third :]]
                words.append(" - keep it safe.")
            if self.mode == "cut":
                words = words[:3]
            for word in words:
                handler.wfile.write(_chunk(word))
                handler.wfile.flush()
                time.sleep(0.005)
            if self.mode == "cut":
                handler.close_connection = True
                return
            handler.wfile.write(_chunk("", "stop"))
            handler.wfile.write(b"data: [DONE]\n\n")
