"""Compressed answers: the coding picked from `accept-encoding`, and an encoder that flushes per piece."""

from __future__ import annotations

import zlib

try:  # zstd answers need it, as httpx needs it to read them
    import zstandard
except ImportError:  # pragma: no cover - installed with the test tools
    zstandard = None  # type: ignore[assignment]


def content_coding(accept_encoding: str | None) -> str | None:
    """The coding a server picks from `accept-encoding`: zstd, else gzip, else none (`identity`)."""
    offered = {part.split(";")[0].strip().lower() for part in (accept_encoding or "").split(",")}
    if "zstd" in offered and zstandard is not None:
        return "zstd"
    return "gzip" if "gzip" in offered else None


class Encoder:
    """Compresses a body piece by piece, flushing each piece so a stream still arrives as it is written."""

    def __init__(self, coding: str | None) -> None:
        self.coding = coding
        if coding == "zstd":
            self._zstd = zstandard.ZstdCompressor().compressobj()
        elif coding == "gzip":
            self._gzip = zlib.compressobj(wbits=31)

    def piece(self, data: bytes) -> bytes:
        if self.coding == "zstd":
            return self._zstd.compress(data) + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        if self.coding == "gzip":
            return self._gzip.compress(data) + self._gzip.flush(zlib.Z_SYNC_FLUSH)
        return data

    def end(self) -> bytes:
        if self.coding == "zstd":
            return self._zstd.flush()
        if self.coding == "gzip":
            return self._gzip.flush()
        return b""

    def whole(self, data: bytes) -> bytes:
        return self.piece(data) + self.end()
