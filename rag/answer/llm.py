"""The optional LLM, through the ``openai`` client: OpenAI, Ollama, llama.cpp, vLLM alike.

Configured by ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and ``RAG_LLM_MODEL``. Any failure
(connection, timeout, HTTP 429/5xx, a stream cut mid-answer) surfaces as ``LLMError``
with a short human reason; the assistant then falls back to the offline answer.
"""

from __future__ import annotations

import time
from typing import Iterator

from ..errors import LLMError
from ..settings import Settings


class LLM:
    def __init__(self, settings: Settings):
        from openai import OpenAI

        self.model = settings.llm_model
        self.max_tokens = settings.llm_max_tokens
        self.deadline = settings.llm_deadline
        self.base_url = settings.openai_base_url or "https://api.openai.com/v1"
        self.client = OpenAI(
            api_key=settings.openai_api_key or "not-needed",  # local servers accept any key
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=0,  # the offline answer is a better fallback than a long retry loop
        )

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        """Yield text pieces as they arrive. ``RAG_LLM_TIMEOUT`` bounds each read and
        ``RAG_LLM_DEADLINE`` the whole answer; past it the stream is closed and LLMError raised."""
        import httpx  # openai 1.x's transport (openai 2+ uses httpx2); chromadb requires it anyway
        import openai

        stream = None
        started = time.monotonic()
        try:
            stream = self.client.chat.completions.create(
                model=self.model, messages=messages, stream=True, temperature=0,
                max_tokens=max_tokens or self.max_tokens,
            )
            kind = stream.response.headers.get("content-type", "")
            if "text/event-stream" not in kind:
                raise LLMError(f"the LLM endpoint did not answer with a stream (it sent {kind or 'no content type'})")
            finished = events = False
            for event in stream:
                events = True
                if time.monotonic() - started > self.deadline:
                    raise LLMError(f"the LLM took longer than {self.deadline:g} s (RAG_LLM_DEADLINE)")
                if not event.choices:
                    continue
                choice = event.choices[0]
                if choice.delta and choice.delta.content:
                    yield choice.delta.content
                if choice.finish_reason:
                    finished = True
            if not finished:
                raise LLMError("the answer stream was cut off before it finished" if events
                               else "the LLM endpoint closed the stream without answering")
        except LLMError:
            raise
        except openai.RateLimitError:
            raise LLMError("the LLM endpoint is rate limiting requests (HTTP 429)") from None
        except openai.APITimeoutError:
            raise LLMError("the LLM did not answer in time") from None
        except openai.APIStatusError as error:
            raise LLMError(f"the LLM endpoint returned HTTP {error.status_code}") from None
        except openai.APIConnectionError:
            raise LLMError("could not reach the LLM endpoint (or the connection dropped)") from None
        except openai.OpenAIError as error:
            raise LLMError(f"LLM error: {type(error).__name__}") from None
        except httpx.TransportError:  # some openai 1.x let these escape mid-stream instead of wrapping them
            raise LLMError("the connection to the LLM endpoint dropped mid-answer") from None
        except ValueError as error:  # a stream chunk that is not JSON, or JSON of the wrong shape
            raise LLMError(f"the LLM endpoint sent a malformed answer ({type(error).__name__})") from None
        finally:
            if stream is not None:
                stream.close()  # past the deadline or on any error: stop reading, free the connection

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_tokens))

    def status(self) -> tuple[bool, str]:
        """A cheap reachability check for the UI's sidebar."""
        try:
            self.client.with_options(timeout=3.0).models.list()
            return True, f"{self.model} at {self.base_url}"
        except Exception as error:  # any failure means "not usable right now"
            return False, f"{self.base_url} unreachable ({type(error).__name__})"
