"""Reading request bodies that routes take raw (to quarantine what does not parse)."""

from __future__ import annotations

from fastapi import Request

from amends.errors import PayloadTooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refused with PayloadTooLarge as soon as it passes `limit` bytes (the
    declared length is checked first, so a huge upload is not read at all)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)
