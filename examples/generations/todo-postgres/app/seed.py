"""Inserts example rows; safe to run more than once."""
from .database import SessionLocal
from .models import Todo, User

USERS = [
    {"email": "ada@example.com", "name": "Ada"},
    {"email": "grace@example.com", "name": "Grace"},
]
TODOS = [
    {"title": "Write the spec", "completed": True, "owner": "ada@example.com"},
    {"title": "Review the migration", "completed": False, "owner": "grace@example.com"},
    {"title": "Ship the preview", "completed": False, "owner": "ada@example.com"},
]


def main() -> None:
    with SessionLocal() as db:
        users = {}
        for data in USERS:
            user = db.query(User).filter(User.email == data["email"]).first()
            if user is None:
                user = User(**data)
                db.add(user)
                db.flush()
            users[user.email] = user
        created = 0
        for data in TODOS:
            if db.query(Todo).filter(Todo.title == data["title"]).first() is None:
                db.add(Todo(title=data["title"], completed=data["completed"], owner_id=users[data["owner"]].id))
                created += 1
        db.commit()
    print(f"seed: {len(USERS)} users present, {created} todos created")


if __name__ == "__main__":
    main()
