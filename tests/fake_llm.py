"""An OpenAI-compatible HTTP server on 127.0.0.1 for tests (STYLE.md §7): records every request
so a test can assert exactly what left the process.

    with FakeLLM() as llm:
        llm.reply("[PERSON_1] sollte …")
        ... settings.LLM_BASE_URL = llm.base_url
        llm.requests  # [{"path", "headers", "body"}]
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"  # ok | slow | fail | malformed | close | empty
        self.text = "Antwort."
        self.chunk_size = 0  # >0: stream in chunks of this many characters
        self.delay = 0.0
        self.embed_fn: Any = None  # text -> list[float] for /embeddings; None: a fixed 3-dim vector
        self.server_seconds: list[float] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                t0 = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "raw": raw})
                try:
                    fake._handle(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)
                finally:
                    fake.server_seconds.append(time.perf_counter() - t0)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- control ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def reply(self, text: str, *, chunk_size: int = 0) -> None:
        self.mode, self.text, self.chunk_size = "ok", text, chunk_size

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def bodies(self) -> list[str]:
        return [r["raw"].decode("utf-8", errors="replace") for r in self.requests]

    # -- behaviour ---------------------------------------------------------------------------------
    def _send_json(self, h: BaseHTTPRequestHandler, status: int, payload: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if self.mode == "slow":
            time.sleep(self.delay or 2.0)
        if self.mode == "fail":
            return self._send_json(h, 500, {"error": {"message": "internal", "type": "server_error"}})
        if self.mode == "malformed":
            return self._send_json(h, 200, None, raw=b"{not json")
        if self.mode == "close":
            h.close_connection = True
            h.connection.shutdown(2)
            return None
        if h.path.endswith("/embeddings"):
            inputs = body.get("input") or []
            inputs = [inputs] if isinstance(inputs, str) else inputs
            vec = self.embed_fn or (lambda t: [float(len(t) % 7), 1.0, 0.5])
            data = [{"object": "embedding", "index": i, "embedding": vec(t)} for i, t in enumerate(inputs)]
            return self._send_json(h, 200, {"object": "list", "data": data, "model": body.get("model"),
                                            "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        if not h.path.endswith("/chat/completions"):
            return self._send_json(h, 404, {"error": {"message": "not found"}})
        text = "" if self.mode == "empty" else self.text
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body.get("model", "fake")}
        if body.get("stream"):
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Connection", "close")
            h.end_headers()
            size = self.chunk_size or max(1, len(text))
            for i in range(0, len(text), size):
                chunk = {**base, "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"role": "assistant", "content": text[i:i + size]}, "finish_reason": None}]}
                h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                h.wfile.flush()
            final = {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            h.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
            h.wfile.write(b"data: [DONE]\n\n")
            h.wfile.flush()
            h.close_connection = True
            return None
        return self._send_json(h, 200, {
            **base, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        })
