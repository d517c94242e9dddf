import os

from fastapi import FastAPI

app = FastAPI(title="Quotes API")

QUOTES = [
    {"id": 1, "author": "Ada Lovelace", "text": "That brain of mine is something more than merely mortal."},
    {"id": 2, "author": "Grace Hopper", "text": "A ship in port is safe, but that is not what ships are built for."},
]


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/api/quotes")
def list_quotes():
    return QUOTES


@app.get("/api/worker")
def worker():
    return {"pid": os.getpid()}
