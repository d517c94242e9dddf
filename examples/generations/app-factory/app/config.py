import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    app_name: str = os.getenv("APP_NAME", "Tasks API")
    environment: str = os.getenv("APP_ENV", "development")
