"""One settings model shared by the CLI and the Python API; every option has a LABREPORT_* variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LABREPORT_", extra="forbid")

    database_url: str = "sqlite:///labreport.sqlite"
    """Where extracted documents are stored: a SQLite file by default, any SQLAlchemy URL otherwise."""

    ocr: Literal["auto", "always", "never"] = "auto"
    """auto: OCR pages whose text layer is missing or garbage; always: OCR every page; never: text only."""
    ocr_languages: str = "auto"
    """Tesseract languages such as 'ita' (read as 'ita+eng'); 'auto' reads with English and records the language
    the page's words suggest (English read the knowledge base's languages best: ocr/languages.py)."""
    ocr_fallback: Literal["rapidocr", "none"] = "rapidocr"
    """Second engine that re-reads pages or rows the first read poorly (used only when installed)."""
    ocr_dpi: int = Field(default=300, ge=72, le=600)

    workers: int = Field(default_factory=_default_workers, ge=1)
    executor: Literal["process", "dask"] = "process"
    scheduler: str | None = None
    """Dask scheduler address (tcp://host:8786) when executor is 'dask'."""

    max_file_bytes: int = 512 * 1024 * 1024
    max_pages: int = 2000
    max_image_pixels: int = 120_000_000
    """Images above this many pixels are refused before decoding (decompression bombs)."""

    hints_dir: Path | None = None
    """Folder of optional per-lab layout hints (YAML)."""
