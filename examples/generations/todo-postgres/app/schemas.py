from datetime import datetime
from typing import Optional

from pydantic import BaseModel, Field


class UserCreate(BaseModel):
    email: str = Field(..., max_length=255, regex=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(..., min_length=1, max_length=100)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    created_at: datetime

    class Config:
        orm_mode = True


class TodoCreate(BaseModel):
    title: str = Field(..., min_length=1, max_length=200)
    description: Optional[str] = None
    completed: bool = False
    owner_id: Optional[int] = None


class TodoOut(BaseModel):
    id: int
    title: str
    description: Optional[str]
    completed: bool
    owner_id: Optional[int]
    created_at: datetime

    class Config:
        orm_mode = True
