"""The optional LLM, through the ``openai`` client: OpenAI, Ollama, llama.cpp, vLLM alike.

Configured by ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and ``RAG_LLM_MODEL``. Any failure
(connection, timeout, HTTP 429/5xx, a stream cut mid-answer) surfaces as ``LLMError``
with a short human reason; the assistant then falls back to the offline answer.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import LLMError
from ..settings import Settings


class LLM:
    def __init__(self, settings: Settings):
        from openai import OpenAI

        self.model = settings.llm_model
        self.max_tokens = settings.llm_max_tokens
        self.base_url = settings.openai_base_url or "https://api.openai.com/v1"
        self.client = OpenAI(
            api_key=settings.openai_api_key or "not-needed",  # local servers accept any key
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=0,  # the offline answer is a better fallback than a long retry loop
        )

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        """Yield text pieces as they arrive."""
        import httpx  # openai 1.x's transport (openai 2+ uses httpx2); chromadb requires it anyway
        import openai

        try:
            stream = self.client.chat.completions.create(
                model=self.model, messages=messages, stream=True, temperature=0,
                max_tokens=max_tokens or self.max_tokens,
            )
            finished = False
            for event in stream:
                if not event.choices:
                    continue
                choice = event.choices[0]
                if choice.delta and choice.delta.content:
                    yield choice.delta.content
                if choice.finish_reason:
                    finished = True
            if not finished:
                raise LLMError("the answer stream was cut off before it finished")
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

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_tokens))

    def status(self) -> tuple[bool, str]:
        """A cheap reachability check for the UI's sidebar."""
        try:
            self.client.with_options(timeout=3.0).models.list()
            return True, f"{self.model} at {self.base_url}"
        except Exception as error:  # any failure means "not usable right now"
            return False, f"{self.base_url} unreachable ({type(error).__name__})"
