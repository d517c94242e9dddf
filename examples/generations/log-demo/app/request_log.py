import json
import sys
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


_output = threading.Lock()


def write_line(line: str) -> None:
    """One write per line: print() writes the text and its newline apart, which threads interleave."""
    with _output:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class RequestLogMiddleware:
    """Prints one JSON line per HTTP request to stdout (the preview service parses it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method, path = scope["method"], scope["path"]
            level = "ERROR" if status >= 500 else "WARN" if status >= 400 else "INFO"
            write_line(
                json.dumps(
                    {
                        "level": level,
                        "source": "request",
                        "message": f"{method} {path} {status}",
                        "metadata": {
                            "method": method,
                            "path": path,
                            "statusCode": status,
                            "duration": round((time.perf_counter() - start) * 1000, 2),
                        },
                    }
                )
            )
