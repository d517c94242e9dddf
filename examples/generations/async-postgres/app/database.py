import os

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base, sessionmaker

# The platform gives a plain postgresql:// URL; SQLAlchemy's asyncio engine needs the asyncpg driver.
DATABASE_URL = os.getenv("DATABASE_URL", "postgresql://postgres:postgres@localhost:5432/orders").replace(
    "postgresql://", "postgresql+asyncpg://", 1
)

engine = create_async_engine(DATABASE_URL, pool_pre_ping=True)
SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
Base = declarative_base()


async def get_session():
    async with SessionLocal() as session:
        yield session
