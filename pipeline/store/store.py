"""The Store: every extracted Document goes in once (keyed by its file's sha256), attached to a patient.

Contract:
- ``add_document(doc)`` is atomic and idempotent: the same file twice (or a retry after a crash, or two
  processes racing) leaves exactly one report. It returns an ``AddOutcome`` saying which patient the report
  went to, how the match was made and whether it was certain; uncertain matches create a new patient and an
  ``IdentityIssue`` that is stored and returned (see ``identity``).
- Reads (``patients``, ``find_patients``, ``documents``, ``reports``, ``observations``, ``patient_info``,
  ``identity_issues``) return typed models, never rows. A report's id outside the store is its sha256.
- Logs carry counts and match kinds only; values, names, ids and file names appear at DEBUG at most.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from types import TracebackType
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from pipeline.errors import LabreportError
from pipeline.interpret.models import Observation, PatientInfo
from pipeline.models import Document
from pipeline.settings import Settings
from pipeline.store import identity, writer
from pipeline.store.engine import make_engine, read_transaction, write_transaction
from pipeline.store.schema import (
    SCHEMA_VERSION,
    Base,
    IdentityIssueRow,
    MetaRow,
    PatientIdRow,
    PatientRow,
    ReportRow,
    ResultRow,
)
from pipeline.store.writer import AddOutcome

log = logging.getLogger(__name__)

MEMORY_URL = "sqlite://"


class StoreError(LabreportError):
    code = "store_error"


class PatientNotFoundError(StoreError):
    code = "patient_not_found"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatientSummary(_Model):
    key: str
    name: str | None
    birth_date: str | None
    sex: Literal["female", "male"] | None
    printed_ids: list[str]
    reports: int
    results: int
    first_collected: str | None
    last_collected: str | None


class ReportSummary(_Model):
    id: str
    """The source file's sha256: the report's id everywhere outside the store."""
    path: str
    file_name: str
    lab: str | None
    collected_at: str | None
    reported_at: str | None
    method: str
    results: int


def _split_datetime(value: str | None) -> tuple[dt.date | None, dt.time | None]:
    """'2024-03-05' or '2024-03-05T08:30' -> (date, time); anything unparsable -> (None, None)."""
    if not value:
        return None, None
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return None, None
    time: dt.time | None = None
    if len(value) > 11 and value[10] in "T ":
        try:
            time = dt.time.fromisoformat(value[11:16])
        except ValueError:
            time = None
    return day, time


class Store:
    """Extracted documents in a database: a SQLite file by default, any SQLAlchemy URL (PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = make_engine(url)
        self._init_schema()

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store named by ``settings.database_url`` (LABREPORT_DATABASE_URL)."""
        return cls(settings.database_url)

    @classmethod
    def temporary(cls) -> Store:
        """An in-memory store, for reports made straight from files."""
        return cls(MEMORY_URL)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def _init_schema(self) -> None:
        with write_transaction(self._engine) as conn:
            Base.metadata.create_all(conn)
            found = conn.scalar(select(MetaRow.value).where(MetaRow.name == "schema_version"))
            if found is None:
                conn.execute(insert(MetaRow).values(name="schema_version", value=SCHEMA_VERSION))
            elif found != SCHEMA_VERSION:
                raise StoreError(f"database schema version {found} is not the supported {SCHEMA_VERSION}")

    # ----------------------------------------------------------------------------------------------
    # Writing

    def add_document(self, doc: Document) -> AddOutcome:
        """Store one document and its results, attached to the patient it prints (see module docstring)."""
        sha = writer.document_sha256(doc)
        try:
            with write_transaction(self._engine) as conn:
                found = writer.existing(conn, sha)
                return found if found is not None else writer.add(conn, doc, sha)
        except IntegrityError:
            # Another writer committed the same file between our check and insert (backends without a lock).
            with read_transaction(self._engine) as conn:
                found = writer.existing(conn, sha)
            if found is None:
                raise
            return found

    # ----------------------------------------------------------------------------------------------
    # Reading

    def patients(self) -> list[PatientSummary]:
        """Every patient with counts and the span of collection dates."""
        return self._summaries(None)

    def find_patients(self, query: str) -> list[PatientSummary]:
        """Patients whose internal key or a printed id matches ``query`` (a printed id may match several)."""
        norm = identity.normalise_id(query)
        condition = PatientRow.key == query
        if norm is not None:
            condition = or_(
                condition,
                PatientRow.id.in_(select(PatientIdRow.patient_id).where(PatientIdRow.value_norm == norm)),
            )
        return self._summaries(condition)

    def _summaries(self, condition: object) -> list[PatientSummary]:
        report_counts = (
            select(ReportRow.patient_id, func.count().label("n")).group_by(ReportRow.patient_id).subquery()
        )
        result_stats = (
            select(
                ResultRow.patient_id,
                func.count().label("n"),
                func.min(ResultRow.collected_at).label("first"),
                func.max(ResultRow.collected_at).label("last"),
            )
            .group_by(ResultRow.patient_id)
            .subquery()
        )
        query = (
            select(
                PatientRow.id,
                PatientRow.key,
                PatientRow.name,
                PatientRow.birth_date,
                PatientRow.sex,
                report_counts.c.n.label("reports"),
                result_stats.c.n.label("results"),
                result_stats.c.first,
                result_stats.c.last,
            )
            .outerjoin(report_counts, report_counts.c.patient_id == PatientRow.id)
            .outerjoin(result_stats, result_stats.c.patient_id == PatientRow.id)
            .order_by(PatientRow.id)
        )
        if condition is not None:
            query = query.where(condition)  # type: ignore[arg-type]
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
            ids: dict[int, list[str]] = {r.id: [] for r in rows}
            if ids:
                for pid, value in conn.execute(
                    select(PatientIdRow.patient_id, PatientIdRow.value)
                    .where(PatientIdRow.patient_id.in_(ids))
                    .order_by(PatientIdRow.id)
                ):
                    ids[pid].append(value)
        return [
            PatientSummary(
                key=r.key,
                name=r.name,
                birth_date=r.birth_date,
                sex=r.sex,
                printed_ids=ids[r.id],
                reports=r.reports or 0,
                results=r.results or 0,
                first_collected=r.first,
                last_collected=r.last,
            )
            for r in rows
        ]

    def _patient_row(self, key: str) -> tuple[int, str | None, str | None]:
        """(internal id, sex, birth date) of the patient with this key."""
        with read_transaction(self._engine) as conn:
            row = conn.execute(
                select(PatientRow.id, PatientRow.sex, PatientRow.birth_date).where(PatientRow.key == key)
            ).first()
        if row is None:
            raise PatientNotFoundError("no such patient in the store")
        return row.id, row.sex, row.birth_date

    def patient_info(self, key: str) -> PatientInfo:
        """What the interpretation engine needs about the patient (no clinical context: nobody entered it)."""
        pid, sex, birth_date = self._patient_row(key)
        with read_transaction(self._engine) as conn:
            latest = conn.execute(
                select(ReportRow.age_years, ReportRow.collected_at)
                .where(ReportRow.patient_id == pid, ReportRow.age_years.is_not(None))
                .order_by(ReportRow.collected_at.desc())
                .limit(1)
            ).first()
        born, _ = _split_datetime(birth_date)
        age_on, _ = _split_datetime(latest.collected_at) if latest else (None, None)
        return PatientInfo(
            id=key,
            sex="female" if sex == "female" else "male" if sex == "male" else None,
            birth_date=born,
            age_years=latest.age_years if latest and age_on else None,
            age_on=age_on if latest else None,
        )

    def reports(self, key: str) -> list[ReportSummary]:
        """The patient's reports, oldest draw first."""
        pid = self._patient_row(key)[0]
        counts = select(ResultRow.report_id, func.count().label("n")).group_by(ResultRow.report_id).subquery()
        with read_transaction(self._engine) as conn:
            rows = conn.execute(
                select(ReportRow, counts.c.n)
                .outerjoin(counts, counts.c.report_id == ReportRow.id)
                .where(ReportRow.patient_id == pid)
                .order_by(ReportRow.collected_at, ReportRow.id)
            ).all()
        return [
            ReportSummary(
                id=r.sha256,
                path=r.path,
                file_name=r.file_name,
                lab=r.lab,
                collected_at=r.collected_at,
                reported_at=r.reported_at,
                method=r.method,
                results=r.n or 0,
            )
            for r in rows
        ]

    def documents(self, key: str) -> list[Document]:
        """The patient's full extracted documents (for provenance and FHIR), oldest draw first."""
        pid = self._patient_row(key)[0]
        with read_transaction(self._engine) as conn:
            payloads = conn.scalars(
                select(ReportRow.document_json)
                .where(ReportRow.patient_id == pid)
                .order_by(ReportRow.collected_at, ReportRow.id)
            ).all()
        return [Document.model_validate_json(p) for p in payloads]

    def observations(self, key: str) -> list[Observation]:
        """The patient's results as interpretation inputs; those with no analyte code or date left out."""
        pid = self._patient_row(key)[0]
        with read_transaction(self._engine) as conn:
            rows = conn.execute(
                select(ResultRow, ReportRow.sha256, ReportRow.lab, ReportRow.age_years)
                .join(ReportRow, ReportRow.id == ResultRow.report_id)
                .where(ResultRow.patient_id == pid)
                .order_by(ResultRow.collected_at, ResultRow.report_id, ResultRow.position)
            ).all()
        out: list[Observation] = []
        skipped = 0
        for r in rows:
            day, time = _split_datetime(r.collected_at)
            if r.analyte is None or day is None:
                skipped += 1
                continue
            out.append(
                Observation(
                    analyte=r.analyte,
                    loinc=r.loinc,
                    name=r.name,
                    value=r.value,
                    value_text=r.value_text,
                    comparator=r.comparator,
                    unit=r.unit,
                    unit_printed=r.unit_printed,
                    ref_low=r.ref_low,
                    ref_high=r.ref_high,
                    ref_text=r.ref_text,
                    ref_applies_to=r.ref_applies_to,
                    flag=r.flag,
                    collected_at=day,
                    collected_time=time,
                    report_id=r.sha256,
                    lab=r.lab,
                    age_years=r.age_years,
                    page=r.page,
                    bbox=tuple(json.loads(r.bbox)),
                    extraction_method=r.method if r.method in ("text", "ocr") else None,
                    confidence=r.confidence,
                    needs_review=r.needs_review,
                )
            )
        if skipped:
            log.info(
                "%d stored results left out of interpretation (no analyte code or no collection date)",
                skipped,
            )
        return out

    def identity_issues(self, key: str | None = None) -> list[identity.IdentityIssue]:
        """Uncertain matches waiting for a human, for one patient (either side) or all."""
        other = PatientRow.__table__.alias("other")
        query = (
            select(IdentityIssueRow.code, IdentityIssueRow.message, PatientRow.key, other.c.key)
            .join(PatientRow, PatientRow.id == IdentityIssueRow.patient_id)
            .outerjoin(other, other.c.id == IdentityIssueRow.other_patient_id)
            .order_by(IdentityIssueRow.id)
        )
        if key is not None:
            query = query.where(or_(PatientRow.key == key, other.c.key == key))
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [
            identity.IdentityIssue(code=code, message=message, patient_key=pkey, other_patient_key=okey)
            for code, message, pkey, okey in rows
        ]
