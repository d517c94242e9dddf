import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    # SQLAlchemy only knows the postgresql:// spelling.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


engine = create_engine(
    database_url(),
    pool_pre_ping=True,
    pool_size=5,
    max_overflow=5,
    # Fail fast so /health answers 503 instead of hanging when the DB is gone.
    connect_args={"connect_timeout": 3},
)
SessionLocal = sessionmaker(bind=engine, autocommit=False, autoflush=False)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
