from fastapi import FastAPI

app = FastAPI(title="Contacts API")

CONTACTS = [{"id": 1, "name": "Ada Lovelace", "email": "ada@example.com"}]


@app.get("/api/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/contacts")
def list_contacts():
    return CONTACTS
