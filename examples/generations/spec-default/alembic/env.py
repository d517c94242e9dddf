import os

from alembic import context
from sqlalchemy import create_engine, pool

from app.database import Base
from app import models  # noqa: F401 (registers the tables)

target_metadata = Base.metadata
engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
