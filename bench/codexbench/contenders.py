"""The contenders: the raw openai client, LiteLLM with `codex/` or `chatgpt/`, the provider alone."""

from __future__ import annotations

import asyncio
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from .common import MODEL, RAW_INSTRUCTIONS

# --------------------------------------------------------------------------- the contenders


def messages(marker: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{marker} Say hello."}]


def import_litellm() -> Any:
    """LiteLLM with the codex provider registered and the chatgpt/ login flows fenced off."""
    import litellm
    from litellm.llms.chatgpt.authenticator import Authenticator

    from litellm_codex_oauth_provider import codex_auth_provider

    def no_network_login(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bench: the chatgpt/ login expired; it must never log in or refresh here")

    # These talk to auth.openai.com; with the fresh login written for the bench they are never
    # reached, and if they were, the run must fail rather than leave the machine.
    Authenticator._login_device_code = no_network_login  # type: ignore[method-assign]
    Authenticator._refresh_tokens = no_network_login  # type: ignore[method-assign]
    litellm.custom_provider_map = [{"provider": "codex", "custom_handler": codex_auth_provider}]
    litellm.suppress_debug_info = True
    # LiteLLM's chatgpt/ path trips pydantic serializer warnings on every call; they say nothing here.
    warnings.filterwarnings("ignore", category=UserWarning, module="pydantic")
    return litellm


class RawClient:
    """The floor: the openai package's Responses client straight to the fake, no translation."""

    name = "raw"

    def __init__(self) -> None:
        from openai import AsyncOpenAI, OpenAI

        workdir = Path(os.environ["BENCH_WORKDIR"])
        tokens = json.loads((workdir / "codex" / "auth.json").read_text())["tokens"]
        self._args = {
            "base_url": os.environ["CODEX_API_BASE"],
            "api_key": tokens["access_token"],
            "default_headers": {"chatgpt-account-id": tokens["account_id"], "originator": "codex_cli_rs"},
            "max_retries": 0,
        }
        self._sync = OpenAI(**self._args)
        self._async_cls = AsyncOpenAI
        self._async: dict[int, Any] = {}

    def client_args(self) -> dict[str, Any]:
        """What every client of this contender is made with: base URL, login, headers."""
        return dict(self._args)

    def new_async_client(self) -> Any:
        return self._async_cls(**self._args)

    def _aclient(self) -> Any:
        loop = id(asyncio.get_running_loop())
        if loop not in self._async:
            self._async[loop] = self._async_cls(**self._args)
        return self._async[loop]

    @staticmethod
    def _body(marker: str) -> dict[str, Any]:
        return {
            "model": MODEL,
            "instructions": RAW_INSTRUCTIONS,
            "input": [{"role": "user", "content": f"{marker} Say hello."}],
            "stream": True,
            "store": False,
        }

    def call(self, marker: str = "bench:fast") -> str:
        parts = []
        with self._sync.responses.create(**self._body(marker)) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    parts.append(event.delta)
        return "".join(parts)

    async def acall(self, marker: str = "bench:fast") -> str:
        parts = []
        async with await self._aclient().responses.create(**self._body(marker)) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    parts.append(event.delta)
        return "".join(parts)

    def first_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        with self._sync.responses.create(**self._body(marker)) as stream:
            for event in stream:
                if first is None and event.type == "response.output_text.delta" and event.delta:
                    first = time.perf_counter() - start
        assert first is not None
        return first

    async def afirst_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        async with await self._aclient().responses.create(**self._body(marker)) as stream:
            async for event in stream:
                if first is None and event.type == "response.output_text.delta" and event.delta:
                    first = time.perf_counter() - start
        assert first is not None
        return first

    def stream_bytes(self, marker: str) -> int:
        total = 0
        with self._sync.responses.create(**self._body(marker)) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    total += len(event.delta)
        return total


class ViaLiteLLM:
    """`litellm.completion` / `acompletion` with one model prefix (codex/ or chatgpt/)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.model = f"{name}/{MODEL}"
        self.litellm = import_litellm()

    def call(self, marker: str = "bench:fast") -> str:
        response = self.litellm.completion(model=self.model, messages=messages(marker))
        return response.choices[0].message.content

    async def acall(self, marker: str = "bench:fast") -> str:
        response = await self.litellm.acompletion(model=self.model, messages=messages(marker))
        return response.choices[0].message.content

    def first_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        for chunk in self.litellm.completion(model=self.model, messages=messages(marker), stream=True):
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - start
        assert first is not None
        return first

    async def afirst_chunk(self, marker: str = "bench:ttfc") -> float:
        start, first = time.perf_counter(), None
        stream = await self.litellm.acompletion(model=self.model, messages=messages(marker), stream=True)
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - start
        assert first is not None
        return first

    def stream_bytes(self, marker: str) -> int:
        total = 0
        for chunk in self.litellm.completion(model=self.model, messages=messages(marker), stream=True):
            if chunk.choices:
                total += len(chunk.choices[0].delta.content or "")
        return total


class CodexDirect:
    """Diagnostic: the provider's own `streaming()` iterator, without LiteLLM's stream wrapper."""

    name = "codex-direct"

    def __init__(self) -> None:
        import_litellm()
        from litellm.types.utils import ModelResponse

        from litellm_codex_oauth_provider import codex_auth_provider

        self._provider, self._response = codex_auth_provider, ModelResponse

    def stream_bytes(self, marker: str) -> int:
        total = 0
        for chunk in self._provider.streaming(
            model=MODEL,
            messages=messages(marker),
            api_base=None,  # type: ignore[arg-type]
            custom_prompt_dict={},
            model_response=self._response(),
            print_verbose=print,
            encoding=None,
            api_key=None,
            logging_obj=None,
            optional_params={},
            litellm_params={},
        ):
            total += len(chunk.choices[0].delta.content or "")
        return total


def make_contender(name: str) -> Any:
    if name == "raw":
        return RawClient()
    if name == "codex-direct":
        return CodexDirect()
    return ViaLiteLLM(name)
