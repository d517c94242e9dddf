from fastapi import FastAPI

from app.routers import products

app = FastAPI(title="Inventory API")
app.include_router(products.router, prefix="/api")


@app.get("/health")
def health():
    return {"status": "ok"}
