from typing import List

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from .database import get_db
from .models import Item

app = FastAPI(title="Catalogue API", version="1.0.0")


class ItemOut(BaseModel):
    id: int
    name: str
    price_cents: int

    class Config:
        orm_mode = True


@app.get("/health")
def health():
    return {"status": "healthy"}


@app.get("/api/items", response_model=List[ItemOut])
def list_items(db: Session = Depends(get_db)):
    return db.query(Item).order_by(Item.id).all()


@app.get("/api/items/{item_id}", response_model=ItemOut)
def get_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item
