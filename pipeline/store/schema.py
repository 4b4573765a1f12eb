"""The store's tables (SQLAlchemy 2.0 typed ORM); the same schema on SQLite and PostgreSQL.

patients 1-n patient_ids (every printed id seen for the patient, normalised for lookup)
patients 1-n reports (one per source file, unique by sha256; the full Document JSON kept for provenance)
reports  1-n results (one per extracted LabResult, with page, box and confidence)
patients 1-n identity_issues (uncertain matches, kept for a human to resolve)

Dates are ISO strings exactly as extraction produced them (a date, or a date and time): the store does not
invent a time zone or a precision the report did not print.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = "1"


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    __tablename__ = "labreport_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class PatientRow(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    """Stable internal key shown to users ('p-…'); never derived from identifying data."""
    name: Mapped[str | None] = mapped_column(String(256))
    name_norm: Mapped[str | None] = mapped_column(String(256), index=True)
    birth_date: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[str] = mapped_column(String(32))

    printed_ids: Mapped[list[PatientIdRow]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", lazy="selectin"
    )


class PatientIdRow(Base):
    __tablename__ = "patient_ids"
    __table_args__ = (UniqueConstraint("patient_id", "value_norm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(128))
    """As printed."""
    value_norm: Mapped[str] = mapped_column(String(128), index=True)
    lab: Mapped[str | None] = mapped_column(String(256))

    patient: Mapped[PatientRow] = relationship(back_populates="printed_ids")


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(512))
    media_type: Mapped[str | None] = mapped_column(String(128))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    lab: Mapped[str | None] = mapped_column(String(256))
    collected_at: Mapped[str | None] = mapped_column(String(32))
    reported_at: Mapped[str | None] = mapped_column(String(32))
    age_years: Mapped[float | None] = mapped_column(Float)
    """Patient age as printed on this report (FIB-4 needs the age at the draw)."""
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    document_json: Mapped[str] = mapped_column(Text)
    """The whole extracted Document, so every stored value can be traced back to its page and box."""
    added_at: Mapped[str] = mapped_column(String(32))


class ResultRow(Base):
    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("report_id", "position"),
        Index("ix_results_patient_analyte", "patient_id", "analyte"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    """Index of the result in the Document's results list."""
    name: Mapped[str] = mapped_column(String(256))
    analyte: Mapped[str | None] = mapped_column(String(64))
    loinc: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(String(256))
    comparator: Mapped[str | None] = mapped_column(String(2))
    unit: Mapped[str | None] = mapped_column(String(64))
    unit_printed: Mapped[str | None] = mapped_column(String(64))
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)
    ref_text: Mapped[str | None] = mapped_column(String(512))
    ref_applies_to: Mapped[str | None] = mapped_column(String(64))
    flag: Mapped[str | None] = mapped_column(String(2))
    flag_printed: Mapped[str | None] = mapped_column(String(32))
    collected_at: Mapped[str | None] = mapped_column(String(32))
    """Effective collection time: the result's own (cumulative reports) or the report's."""
    page: Mapped[int] = mapped_column(Integer)
    bbox: Mapped[str] = mapped_column(String(128))
    """JSON [x0, top, x1, bottom] in the page's unit."""
    method: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean)


class IdentityIssueRow(Base):
    __tablename__ = "identity_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    other_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
