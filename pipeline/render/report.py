"""The two ways to make a report, for the CLI and the API: from a stored patient, or straight from documents.

Contract:
- ``report_for_patient(store, patient, out_dir)``: ``patient`` is the store's key or a printed id that names
  exactly one patient; reads observations and documents, interprets, writes the four outputs. Uncertain
  identity matches involving the patient become caveats in the report.
- ``report_for_documents(documents, out_dir)``: puts the documents in a temporary in-memory store (so the
  same identity rules apply) and reports on the one patient they belong to; documents that resolve to
  several patients raise ``MixedPatientsError`` (nothing is merged on a guess).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import ExitCode, LabreportError
from pipeline.interpret import interpret
from pipeline.models import Document
from pipeline.render import ReportPaths, write_report
from pipeline.store import PatientNotFoundError, Store

log = logging.getLogger(__name__)


class MixedPatientsError(LabreportError):
    exit_code = ExitCode.USAGE
    code = "mixed_patients"


class AmbiguousPatientError(LabreportError):
    exit_code = ExitCode.USAGE
    code = "ambiguous_patient"


def resolve_patient(store: Store, query: str) -> str:
    """The store key of the one patient that ``query`` (key or printed id) names."""
    found = store.find_patients(query)
    if not found:
        raise PatientNotFoundError("no patient in the store has that key or printed id")
    if len(found) > 1:
        keys = ", ".join(p.key for p in found)
        raise AmbiguousPatientError(f"that printed id belongs to {len(found)} patients ({keys}); use a key")
    return found[0].key


def report_for_patient(store: Store, patient: str, out_dir: Path | str) -> ReportPaths:
    """Interpret one stored patient's results and write the report."""
    key = resolve_patient(store, patient)
    interpretation = interpret(store.observations(key), store.patient_info(key))
    caveats = [
        f"Patient identity: {issue.message} (patients {issue.patient_key} and {issue.other_patient_key})"
        for issue in store.identity_issues(key)
        if issue.other_patient_key
    ]
    return write_report(interpretation, store.documents(key), out_dir, caveats)


def report_for_documents(documents: Sequence[Document], out_dir: Path | str) -> ReportPaths:
    """Report straight from extracted documents, through a temporary store."""
    if not documents:
        raise MixedPatientsError("no documents to report on")
    with Store.temporary() as store:
        outcomes = [store.add_document(doc) for doc in documents]
        keys = sorted({o.patient_key for o in outcomes})
        if len(keys) > 1:
            uncertain = sum(1 for o in outcomes if not o.certain)
            raise MixedPatientsError(
                f"the files belong to {len(keys)} patients ({uncertain} uncertain matches); "
                "report on each file group separately or store them and pick a patient"
            )
        log.info("report from %d documents", len(documents))
        return report_for_patient(store, keys[0], out_dir)
