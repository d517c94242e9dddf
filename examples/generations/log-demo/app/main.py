"""An app that prints log lines on demand: what the log pipeline's tests and benchmark drive."""
import json
import os
import threading
import time
from typing import List
from urllib.parse import urlparse

from fastapi import FastAPI
from pydantic import BaseModel, Field

from .request_log import RequestLogMiddleware, write_line as _print

app = FastAPI(title="Log Demo", version="1.0.0")
app.add_middleware(RequestLogMiddleware)


class Burst(BaseModel):
    count: int = Field(..., ge=1, le=1_000_000)
    rate: float = Field(1000, gt=0, le=100_000, description="lines per second")
    level: str = "INFO"
    source: str = "system"
    message: str = "line"


class Lines(BaseModel):
    lines: List[str] = Field(..., max_items=1000)


def _burst(burst: Burst) -> None:
    interval = 1.0 / burst.rate
    start = time.perf_counter()
    for seq in range(burst.count):
        # Paced against the start, so one slow write does not lower the rate.
        delay = start + seq * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        line = {
            "level": burst.level,
            "source": burst.source,
            "message": f"{burst.message} {seq}",
            "metadata": {"seq": seq, "sentAt": time.time() * 1000},
        }
        _print(json.dumps(line))


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/emit", status_code=202)
def emit(burst: Burst):
    """Prints `count` JSON lines at `rate` a second, each stamped with when it was written."""
    threading.Thread(target=_burst, args=(burst,), daemon=True).start()
    return {"count": burst.count, "rate": burst.rate}


@app.post("/print")
def print_lines(payload: Lines):
    """Prints each line as it is."""
    for line in payload.lines:
        _print(line)
    return {"printed": len(payload.lines)}


@app.post("/print-database-url")
def print_database_url():
    """Prints the app's own database URL and password, as careless code does."""
    url = os.environ.get("DATABASE_URL", "")
    password = urlparse(url).password or ""
    _print(f"connecting to {url}")
    _print(f"the database password is {password}")
    _print(json.dumps({"level": "INFO", "source": "database", "message": "settings", "metadata": {"url": url}}))
    return {"printed": 3}


@app.get("/boom")
def boom():
    raise RuntimeError("boom: this endpoint fails on purpose")
