from .database import Base, SessionLocal, engine
from .models import Entry


def main():
    Base.metadata.create_all(bind=engine)
    with SessionLocal() as db:
        if db.query(Entry).count() == 0:
            db.add_all([Entry(title="First day", body="Set up the journal."), Entry(title="Second day", body="")])
            db.commit()
    print("seeded entries")


if __name__ == "__main__":
    main()
