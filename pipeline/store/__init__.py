"""The store: extracted documents in a database (SQLite by default, any SQLAlchemy URL), one report per file.

See ``store.Store`` for the contract, ``identity`` for how a document finds its patient.
"""

from pipeline.store.identity import IdentityIssue
from pipeline.store.store import (
    MEMORY_URL,
    PatientNotFoundError,
    PatientSummary,
    ReportSummary,
    Store,
    StoreError,
)
from pipeline.store.writer import AddOutcome, document_sha256

__all__ = [
    "MEMORY_URL",
    "AddOutcome",
    "IdentityIssue",
    "PatientNotFoundError",
    "PatientSummary",
    "ReportSummary",
    "Store",
    "StoreError",
    "document_sha256",
]
