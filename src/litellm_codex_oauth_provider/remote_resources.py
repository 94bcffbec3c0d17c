"""Remote resources: the model catalog (and, for old models, the Codex prompt files).

Placeholder until the catalog issue lands: every lookup answers with the bundled catalog.
"""

from __future__ import annotations

from .catalog import ModelCatalog, bundled_catalog
from .openai_client import AsyncCodexOpenAIClient, CodexOpenAIClient


class CatalogStore:
    """Hands out the model catalog for a backend base URL."""

    def __init__(self) -> None:
        self._bundled = bundled_catalog()

    def catalog(self, client: CodexOpenAIClient) -> ModelCatalog:
        return self._bundled

    async def acatalog(self, client: AsyncCodexOpenAIClient) -> ModelCatalog:
        return self._bundled

    def instructions_fallback(self, slug: str) -> str | None:
        return None

    async def ainstructions_fallback(self, slug: str) -> str | None:
        return None
