import uvicorn
from fastapi import FastAPI

app = FastAPI(title="Notes API")

NOTES = [
    {"id": 1, "text": "Buy milk"},
    {"id": 2, "text": "Call the plumber"},
]


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/api/notes")
def list_notes():
    return NOTES


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=8080)
