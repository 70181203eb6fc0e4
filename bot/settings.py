"""Configuration from environment variables, each with a working default."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    path = Path(os.environ.get("ACOLLIDA_VAR_DIR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir() / 'acollida.db'}"


def knowledge_pack_path() -> Path:
    return Path(os.environ.get("ACOLLIDA_KNOWLEDGE_PACK", PROJECT_ROOT / "knowledge" / "osona"))


def review_max_age_days(default: int) -> int:
    """`kb check` flags articles not reviewed for this long; the pack sets the default."""
    value = os.environ.get("ACOLLIDA_REVIEW_MAX_AGE_DAYS")
    return int(value) if value else default
