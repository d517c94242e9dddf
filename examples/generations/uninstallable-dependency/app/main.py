import stripe
from fastapi import FastAPI

app = FastAPI(title="Payments API")


@app.get("/health")
def health():
    return {"status": "ok", "stripe": stripe.VERSION}
