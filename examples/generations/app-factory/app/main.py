from fastapi import APIRouter, FastAPI

from .config import Settings

router = APIRouter(prefix="/api")

TASKS = [
    {"id": 1, "title": "Draft the release notes", "done": False},
    {"id": 2, "title": "Tag the release", "done": True},
]


@router.get("/tasks")
def list_tasks():
    return TASKS


def create_app() -> FastAPI:
    settings = Settings()
    app = FastAPI(title=settings.app_name)

    @app.get("/health")
    def health():
        return {"status": "ok", "environment": settings.environment}

    app.include_router(router)
    return app
