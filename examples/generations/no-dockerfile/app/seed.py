from .database import SessionLocal
from .models import Item

ITEMS = [("Mechanical keyboard", 8900), ("Wireless mouse", 2900), ("27-inch monitor", 24900)]


def main():
    db = SessionLocal()
    try:
        if db.query(Item).count() == 0:
            db.add_all([Item(name=name, price_cents=price) for name, price in ITEMS])
            db.commit()
        print(f"seeded {db.query(Item).count()} items")
    finally:
        db.close()


if __name__ == "__main__":
    main()
