from .database import SessionLocal
from .models import Event

EVENTS = [("PyCon Lisbon", "Lisbon"), ("FastAPI meetup", "Berlin")]


def main():
    with SessionLocal() as db:
        if db.query(Event).count() == 0:
            db.add_all([Event(name=name, city=city) for name, city in EVENTS])
            db.commit()
    print("seeded events")


if __name__ == "__main__":
    main()
