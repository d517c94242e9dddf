import asyncio
from typing import List, Optional

from fastapi import Depends, FastAPI, HTTPException, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from . import models, schemas
from .database import engine, get_db
from .request_log import RequestLogMiddleware

app = FastAPI(title="Todo API", version="1.0.0")
app.add_middleware(RequestLogMiddleware)


HEALTH_DB_TIMEOUT_SECONDS = 3


def _ping_database() -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@app.get("/health")
async def health():
    # Bounded, so a hung database gives a 503 instead of a hung health check.
    try:
        await asyncio.wait_for(run_in_threadpool(_ping_database), HEALTH_DB_TIMEOUT_SECONDS)
    except Exception:
        return JSONResponse(status_code=503, content={"status": "error", "database": "unreachable"})
    return {"status": "ok", "database": "ok"}


@app.get("/users", response_model=List[schemas.UserOut])
def list_users(db: Session = Depends(get_db)):
    return db.query(models.User).order_by(models.User.id).all()


@app.get("/users/{user_id}", response_model=schemas.UserOut)
def get_user(user_id: int, db: Session = Depends(get_db)):
    user = db.get(models.User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return user


@app.post("/users", response_model=schemas.UserOut, status_code=201)
def create_user(payload: schemas.UserCreate, db: Session = Depends(get_db)):
    if db.query(models.User).filter(models.User.email == payload.email).first():
        raise HTTPException(status_code=409, detail="Email already registered")
    user = models.User(**payload.dict())
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


@app.get("/todos", response_model=List[schemas.TodoOut])
def list_todos(completed: Optional[bool] = None, limit: int = 100, offset: int = 0, db: Session = Depends(get_db)):
    query = db.query(models.Todo)
    if completed is not None:
        query = query.filter(models.Todo.completed == completed)
    return query.order_by(models.Todo.id).offset(offset).limit(min(limit, 500)).all()


@app.get("/todos/{todo_id}", response_model=schemas.TodoOut)
def get_todo(todo_id: int, db: Session = Depends(get_db)):
    todo = db.get(models.Todo, todo_id)
    if todo is None:
        raise HTTPException(status_code=404, detail="Todo not found")
    return todo


@app.post("/todos", response_model=schemas.TodoOut, status_code=201)
def create_todo(payload: schemas.TodoCreate, db: Session = Depends(get_db)):
    if payload.owner_id is not None and db.get(models.User, payload.owner_id) is None:
        raise HTTPException(status_code=422, detail="owner_id does not exist")
    todo = models.Todo(**payload.dict())
    db.add(todo)
    db.commit()
    db.refresh(todo)
    return todo


@app.delete("/todos/{todo_id}", status_code=204)
def delete_todo(todo_id: int, db: Session = Depends(get_db)):
    todo = db.get(models.Todo, todo_id)
    if todo is None:
        raise HTTPException(status_code=404, detail="Todo not found")
    db.delete(todo)
    db.commit()
    return Response(status_code=204)
