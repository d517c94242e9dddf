from fastapi import Depends, FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from .database import get_session
from .models import Order

app = FastAPI(title="Orders API")


@app.get("/health")
async def health(session: AsyncSession = Depends(get_session)):
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


@app.get("/api/orders")
async def list_orders(session: AsyncSession = Depends(get_session)):
    result = await session.execute(select(Order).order_by(Order.id))
    return [{"id": o.id, "customer": o.customer, "total_cents": o.total_cents} for o in result.scalars()]
