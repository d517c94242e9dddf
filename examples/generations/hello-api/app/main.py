import itertools
import os
from datetime import datetime, timezone
from typing import Dict, List

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from .request_log import RequestLogMiddleware

app = FastAPI(title="Hello API", version="1.0.0")
app.add_middleware(RequestLogMiddleware)

GREETING = os.environ.get("GREETING", "Hello")


class GreetingIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=50)
    excited: bool = False


class Greeting(BaseModel):
    id: int
    name: str
    message: str
    created_at: datetime


# In memory on purpose: the app has no database and a read-only file system.
_greetings: Dict[int, Greeting] = {}
_ids = itertools.count(1)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/hello/{name}", response_model=Greeting)
def hello(name: str):
    return Greeting(id=0, name=name, message=f"{GREETING}, {name}!", created_at=datetime.now(timezone.utc))


@app.get("/greetings", response_model=List[Greeting])
def list_greetings():
    return list(_greetings.values())


@app.get("/greetings/{greeting_id}", response_model=Greeting)
def get_greeting(greeting_id: int):
    greeting = _greetings.get(greeting_id)
    if greeting is None:
        raise HTTPException(status_code=404, detail="Greeting not found")
    return greeting


@app.post("/greetings", response_model=Greeting, status_code=201)
def create_greeting(payload: GreetingIn):
    greeting = Greeting(
        id=next(_ids),
        name=payload.name,
        message=f"{GREETING}, {payload.name}{'!' if payload.excited else '.'}",
        created_at=datetime.now(timezone.utc),
    )
    _greetings[greeting.id] = greeting
    return greeting
