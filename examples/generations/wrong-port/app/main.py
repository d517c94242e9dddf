from fastapi import FastAPI

app = FastAPI(title="Weather API")

FORECASTS = [
    {"city": "Lisbon", "temperature_c": 21},
    {"city": "Oslo", "temperature_c": 4},
]


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/api/forecasts")
def list_forecasts():
    return FORECASTS
