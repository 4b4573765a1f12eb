"""What a test's SQLite database holds: the content hash of every stored report."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select

from pipeline.store.schema import ReportRow


def stored_reports(db: Path) -> list[str]:
    """The sha256 of each report stored in the SQLite file `db` (one per stored report)."""
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(ReportRow.sha256)))
    finally:
        engine.dispose()
