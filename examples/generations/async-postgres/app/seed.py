import asyncio

from sqlalchemy import func, select

from .database import Base, SessionLocal, engine
from .models import Order

ORDERS = [("Ada", 12900), ("Grace", 4500)]


async def main():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        if await session.scalar(select(func.count(Order.id))) == 0:
            session.add_all([Order(customer=c, total_cents=t) for c, t in ORDERS])
            await session.commit()
    await engine.dispose()
    print("seeded orders")


if __name__ == "__main__":
    asyncio.run(main())
