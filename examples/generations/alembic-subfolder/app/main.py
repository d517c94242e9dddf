from fastapi import FastAPI

from .database import SessionLocal
from .models import Event

app = FastAPI(title="Events API")


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/api/events")
def list_events():
    with SessionLocal() as db:
        return [{"id": e.id, "name": e.name, "city": e.city} for e in db.query(Event).order_by(Event.id)]
