"""An app that uses far more memory than a free-tier preview allows.

ALLOCATE_AT_STARTUP_MB (default 0) is allocated during startup, before the app
answers anything; GET /allocate?mb=N allocates more at run time and keeps it.
"""
import os
from typing import List

from fastapi import FastAPI

from .request_log import RequestLogMiddleware

CHUNK_MB = 16

app = FastAPI(title="Memory hog", version="1.0.0")
app.add_middleware(RequestLogMiddleware)

_held: List[bytes] = []


def allocate(mb: int) -> int:
    """Allocates and touches `mb` MiB (touched pages count against the memory limit)."""
    for _ in range(max(0, mb) // CHUNK_MB):
        _held.append(b"\x01" * (CHUNK_MB * 1024 * 1024))
    return held_mb()


def held_mb() -> int:
    return len(_held) * CHUNK_MB


@app.on_event("startup")
def allocate_at_startup() -> None:
    mb = int(os.environ.get("ALLOCATE_AT_STARTUP_MB", "0"))
    if mb > 0:
        print(f"allocating {mb} MiB at startup", flush=True)
        allocate(mb)


@app.get("/health")
def health():
    return {"status": "ok", "heldMb": held_mb()}


@app.get("/allocate")
def allocate_endpoint(mb: int = 1024):
    return {"heldMb": allocate(mb)}
