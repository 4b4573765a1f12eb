"""Writing one Document into the store inside a caller's write transaction (see ``store.Store.add_document``).

Contract: ``existing(conn, sha)`` returns the outcome for an already stored file (nothing changes);
``add(conn, doc, sha)`` resolves the patient (``identity.decide``), inserts the report, its results and any
identity issue, and returns the ``AddOutcome``. The caller holds the writer lock, so the check-then-insert
is race free; the unique sha256 constraint is the last line of defence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pipeline.models import Document
from pipeline.store import identity
from pipeline.store.schema import IdentityIssueRow, PatientIdRow, PatientRow, ReportRow, ResultRow

log = logging.getLogger(__name__)


class AddOutcome(BaseModel):
    """What ``add_document`` did with one document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["added", "duplicate"]
    sha256: str
    report_id: int
    patient_key: str
    patient_created: bool
    match: identity.MatchKind | Literal["existing_report"]
    certain: bool
    """False when an identity issue was raised: the report sits on a new patient pending review."""
    results: int
    issues: list[identity.IdentityIssue] = []


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def document_sha256(doc: Document) -> str:
    """The report's key: the source file's sha256; computed from the file, or the document, when absent."""
    if doc.source.sha256:
        return doc.source.sha256.lower()
    path = Path(doc.source.path)
    if path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    log.warning("source file unavailable and no sha256 recorded: keying the report by its extracted content")
    payload = doc.model_dump_json(include={"source", "lab", "patient", "collected_at", "results"})
    return hashlib.sha256(payload.encode()).hexdigest()


def effective_collected_at(doc: Document, result_collected_at: str | None) -> str | None:
    """The draw time of one result: its own date (cumulative reports) or the report's date and time."""
    if result_collected_at:
        return result_collected_at
    if doc.collected_at and doc.collected_time and "T" not in doc.collected_at:
        return f"{doc.collected_at}T{doc.collected_time}"
    return doc.collected_at


def existing(conn: Connection, sha: str) -> AddOutcome | None:
    """The outcome for a file already stored, or None."""
    row = conn.execute(
        select(ReportRow.id, PatientRow.key)
        .join(PatientRow, PatientRow.id == ReportRow.patient_id)
        .where(ReportRow.sha256 == sha)
    ).first()
    if row is None:
        return None
    count = conn.scalar(select(func.count()).select_from(ResultRow).where(ResultRow.report_id == row.id))
    log.info("report already stored; nothing changed")
    return AddOutcome(
        status="duplicate",
        sha256=sha,
        report_id=row.id,
        patient_key=row.key,
        patient_created=False,
        match="existing_report",
        certain=True,
        results=count or 0,
    )


def add(conn: Connection, doc: Document, sha: str) -> AddOutcome:
    """Insert the document for the patient it prints; the caller holds the writer lock."""
    printed = identity.PrintedIdentity(
        printed_id=identity.normalise_id(doc.patient.id),
        name_norm=identity.normalise_name(doc.patient.name),
        birth_date=doc.patient.birth_date,
    )
    decision = identity.decide(printed, _candidates(conn, printed))
    if decision.patient_key is None:
        patient_id, patient_key = _new_patient(conn, doc)
    else:
        patient_id, patient_key = _update_patient(conn, decision.patient_key, doc)
    if printed.printed_id is not None:
        _remember_id(conn, patient_id, doc, printed.printed_id)
    report_id = _insert_report(conn, doc, sha, patient_id)
    rows = [_result_row(doc, i, report_id, patient_id) for i in range(len(doc.results))]
    if rows:
        conn.execute(insert(ResultRow), rows)
    issues = [issue.model_copy(update={"patient_key": patient_key}) for issue in decision.issues]
    for issue in issues:
        other_id = (
            conn.scalar(select(PatientRow.id).where(PatientRow.key == issue.other_patient_key))
            if issue.other_patient_key
            else None
        )
        conn.execute(
            insert(IdentityIssueRow).values(
                patient_id=patient_id,
                other_patient_id=other_id,
                report_id=report_id,
                code=issue.code,
                message=issue.message,
                created_at=now(),
            )
        )
    log.info(
        "stored report with %d results (patient match: %s, issues: %d)",
        len(rows),
        decision.match,
        len(issues),
    )
    log.debug("stored %s as report %d for patient %s", doc.source.name, report_id, patient_key)
    return AddOutcome(
        status="added",
        sha256=sha,
        report_id=report_id,
        patient_key=patient_key,
        patient_created=decision.patient_key is None,
        match=decision.match,
        certain=not any(i.code != "no_identity" for i in issues),
        results=len(rows),
        issues=issues,
    )


def _candidates(conn: Connection, printed: identity.PrintedIdentity) -> list[identity.Candidate]:
    conditions: list[ColumnElement[bool]] = []
    if printed.printed_id is not None:
        conditions.append(
            PatientRow.id.in_(
                select(PatientIdRow.patient_id).where(PatientIdRow.value_norm == printed.printed_id)
            )
        )
    if printed.name_norm is not None:
        conditions.append(PatientRow.name_norm == printed.name_norm)
    if not conditions:
        return []
    patients = conn.execute(
        select(PatientRow.id, PatientRow.key, PatientRow.name_norm, PatientRow.birth_date)
        .where(or_(*conditions))
        .order_by(PatientRow.id)
    ).all()
    ids: dict[int, set[str]] = {p.id: set() for p in patients}
    if ids:
        for pid, value in conn.execute(
            select(PatientIdRow.patient_id, PatientIdRow.value_norm).where(PatientIdRow.patient_id.in_(ids))
        ):
            ids[pid].add(value)
    return [identity.Candidate(p.key, frozenset(ids[p.id]), p.name_norm, p.birth_date) for p in patients]


def _new_patient(conn: Connection, doc: Document) -> tuple[int, str]:
    key = "p-" + uuid.uuid4().hex[:12]
    patient_id = conn.execute(
        insert(PatientRow)
        .values(
            key=key,
            name=doc.patient.name,
            name_norm=identity.normalise_name(doc.patient.name),
            birth_date=doc.patient.birth_date,
            sex=doc.patient.sex,
            created_at=now(),
        )
        .returning(PatientRow.id)
    ).scalar_one()
    return patient_id, key


def _update_patient(conn: Connection, key: str, doc: Document) -> tuple[int, str]:
    """Fill in what the stored patient lacks (a birth date, sex, a name) from a certain match."""
    row = conn.execute(select(PatientRow).where(PatientRow.key == key)).one()
    updates: dict[str, str] = {}
    if row.name is None and doc.patient.name:
        updates |= {"name": doc.patient.name, "name_norm": identity.normalise_name(doc.patient.name) or ""}
    if row.birth_date is None and doc.patient.birth_date:
        updates["birth_date"] = doc.patient.birth_date
    if row.sex is None and doc.patient.sex:
        updates["sex"] = doc.patient.sex
    if updates:
        conn.execute(update(PatientRow).where(PatientRow.id == row.id).values(**updates))
    return row.id, key


def _remember_id(conn: Connection, patient_id: int, doc: Document, norm: str) -> None:
    values = {
        "patient_id": patient_id,
        "value": doc.patient.id or norm,
        "value_norm": norm,
        "lab": doc.lab.name,
    }
    if conn.dialect.name == "sqlite":
        conn.execute(sqlite.insert(PatientIdRow).values(**values).on_conflict_do_nothing())
    elif conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(PatientIdRow).values(**values).on_conflict_do_nothing())
    elif (
        conn.scalar(
            select(PatientIdRow.id).where(
                PatientIdRow.patient_id == patient_id, PatientIdRow.value_norm == norm
            )
        )
        is None
    ):
        conn.execute(insert(PatientIdRow).values(**values))


def _insert_report(conn: Connection, doc: Document, sha: str, patient_id: int) -> int:
    values = {
        "sha256": sha,
        "patient_id": patient_id,
        "path": doc.source.path,
        "file_name": doc.source.name,
        "media_type": doc.source.media_type,
        "size_bytes": doc.source.size_bytes,
        "lab": doc.lab.name,
        "collected_at": effective_collected_at(doc, None),
        "reported_at": doc.reported_at,
        "age_years": doc.patient.age_years,
        "method": doc.extraction.method,
        "status": doc.status,
        "document_json": doc.model_dump_json(),
        "added_at": now(),
    }
    report_id: int = conn.execute(insert(ReportRow).values(**values).returning(ReportRow.id)).scalar_one()
    return report_id


def _result_row(doc: Document, position: int, report_id: int, patient_id: int) -> dict[str, object]:
    r = doc.results[position]
    ref = r.reference_range
    return {
        "report_id": report_id,
        "patient_id": patient_id,
        "position": position,
        "name": r.name,
        "analyte": r.analyte,
        "loinc": r.loinc,
        "value": r.value,
        "value_text": r.value_text,
        "comparator": r.comparator,
        "unit": r.unit,
        "unit_printed": r.unit_printed,
        "ref_low": ref.low if ref else None,
        "ref_high": ref.high if ref else None,
        "ref_text": ref.text if ref else None,
        "ref_applies_to": ref.applies_to if ref else None,
        "flag": r.flag,
        "flag_printed": r.flag_printed,
        "collected_at": effective_collected_at(doc, r.collected_at),
        "page": r.page,
        "bbox": json.dumps(list(r.bbox)),
        "method": r.method,
        "confidence": r.confidence,
        "needs_review": r.needs_review,
    }
