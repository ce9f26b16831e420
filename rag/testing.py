"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for testing the LLM path for real.

    >>> with FakeOpenAI([Reply("Hello [1].")]) as server:                       # doctest: +SKIP
    ...     settings = Settings.from_env().with_(llm_model="fake", openai_base_url=server.base_url)
    ...     Assistant(settings).ask("Who?")

The assistant talks to it through the real ``openai`` client over real HTTP, so
retries, timeouts, streaming and error handling are all exercised. Each request to
``/v1/chat/completions`` consumes the next scripted ``Reply`` (the last one repeats).
A reply's ``content`` may be a function of the request's messages, so a test can
answer in terms of whatever passages retrieval put in the prompt.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    content: str | Callable[[list[dict]], str] = ""
    status: int = 200  # e.g. 429 or 500 for an error response
    delay: float = 0.0  # seconds before answering (longer than the client timeout = a timeout)
    cut_after: int | None = None  # streaming: drop the connection after this many pieces
    piece_chars: int = 12  # streaming: characters per chunk
    piece_delay: float = 0.0  # streaming: seconds between pieces (a slow drip)
    garbage_after: int | None = None  # streaming: after this many pieces send a chunk that is not JSON
    raw_body: bytes | None = None  # answer with exactly these bytes (status 200, application/json)


class FakeOpenAI:
    def __init__(self, script: list[Reply], model: str = "fake-model"):
        self.script = list(script)
        self.model = model
        self.requests: list[dict] = []  # every chat request body received, for assertions
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model",
                                                                  "created": 0, "owned_by": "test"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                fake.requests.append(body)
                reply = fake.script[min(len(fake.requests), len(fake.script)) - 1]
                time.sleep(reply.delay)
                if reply.status != 200:
                    return self._json(reply.status, {"error": {"message": f"scripted {reply.status}",
                                                               "type": "scripted", "code": reply.status}})
                if reply.raw_body is not None:
                    return self._raw(reply.raw_body)
                content = reply.content(body.get("messages", [])) if callable(reply.content) else reply.content
                if body.get("stream"):
                    try:
                        self._stream(content, reply)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True  # the client stopped reading (a deadline): fine
                else:
                    self._json(200, {
                        "id": "fake", "object": "chat.completion", "created": 0, "model": fake.model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    })

            def _json(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _raw(self, data: bytes):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, content: str, reply: Reply):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [content[i:i + reply.piece_chars] for i in range(0, len(content), reply.piece_chars)]
                for n, piece in enumerate(pieces):
                    if reply.cut_after is not None and n >= reply.cut_after:
                        self.wfile.flush()
                        self.close_connection = True
                        return  # the connection drops mid-answer: no finish_reason, no [DONE]
                    if reply.garbage_after is not None and n == reply.garbage_after:
                        self.wfile.write(b'data: {"id": "fake", "choices": [{"delta": {"content": "oops"\n\n')
                        self.wfile.flush()
                    if n and reply.piece_delay:
                        time.sleep(reply.piece_delay)
                    self._event({"content": piece}, None)
                self._event({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, delta, finish):
                chunk = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": fake.model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def passages_in(messages: list[dict]) -> dict[int, str]:
    """The numbered passages the assistant put in its prompt: {n: text}."""
    import re

    prompt = "\n".join(m.get("content", "") for m in messages if m.get("role") == "user")
    return {int(n): text.strip() for n, text in re.findall(r"^\[(\d+)\][^\n]*\n<<<\n(.*?)\n>>>", prompt, re.S | re.M)}
