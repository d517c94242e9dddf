from sqlalchemy import Column, Integer, String

from .database import Base


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    customer = Column(String(100), nullable=False)
    total_cents = Column(Integer, nullable=False)
