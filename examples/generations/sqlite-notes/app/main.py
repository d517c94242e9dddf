from fastapi import FastAPI
from pydantic import BaseModel

from .database import Base, SessionLocal, engine
from .models import Entry

Base.metadata.create_all(bind=engine)

app = FastAPI(title="Journal API")


class EntryIn(BaseModel):
    title: str
    body: str = ""


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/api/entries")
def list_entries():
    with SessionLocal() as db:
        return [{"id": e.id, "title": e.title, "body": e.body} for e in db.query(Entry).order_by(Entry.id)]


@app.post("/api/entries", status_code=201)
def create_entry(payload: EntryIn):
    with SessionLocal() as db:
        entry = Entry(title=payload.title, body=payload.body)
        db.add(entry)
        db.commit()
        return {"id": entry.id, "title": entry.title, "body": entry.body}
