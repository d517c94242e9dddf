import os

import psycopg2
import psycopg2.extras
from fastapi import FastAPI

app = FastAPI(title="Library API")


def query(sql, *params):
    with psycopg2.connect(os.environ["DATABASE_URL"]) as conn:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, params)
            return cur.fetchall()


@app.get("/health")
def health():
    query("SELECT 1")
    return {"status": "ok"}


@app.get("/api/books")
def list_books():
    return query("SELECT id, title, author, published_year FROM books ORDER BY id")
