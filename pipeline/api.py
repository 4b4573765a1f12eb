"""The Python API: the one function that extract, batch and watch all call for a file."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.errors import ExitCode, InputError
from pipeline.extract import extract
from pipeline.models import Document, Extraction, Issue, Source
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_INPUT_CODES = frozenset(
    {
        InputError.code,
        "empty_file",
        "unsupported_type",
        "corrupt_file",
        "encrypted_pdf",
        "too_large",
        "not_a_report",
    }
)


def process_file(path: Path, settings: Settings | None = None) -> Document:
    """Extract one file; any failure, even a bug, becomes a failed Document naming the file and the reason."""
    settings = settings or Settings()
    try:
        return extract(path, settings)
    except Exception as exc:  # a bug must not stop a batch: report it for this file and go on
        log.debug("internal error on %s", path.name, exc_info=True)
        return Document(
            status="failure",
            source=Source(path=str(path), name=path.name),
            extraction=Extraction(method="none"),
            issues=[
                Issue(
                    severity="error",
                    code="internal_error",
                    message=f"{path}: internal error while reading the file ({type(exc).__name__}); "
                    "please report it with the file if you can share it",
                )
            ],
        )


def exit_code(document: Document) -> ExitCode:
    """The exit code one document deserves; a run exits with the worst (highest) of its files."""
    if document.status != "failure":
        return ExitCode.OK
    codes = {issue.code for issue in document.issues if issue.severity == "error"}
    if codes & _INPUT_CODES:
        return ExitCode.INPUT_ERROR
    if "missing_dependency" in codes:
        return ExitCode.MISSING_DEPENDENCY
    if "internal_error" in codes:
        return ExitCode.INTERNAL_ERROR
    return ExitCode.NO_RESULTS


def failure_message(document: Document) -> str:
    """One line for stderr saying which file failed and why."""
    errors = [issue.message for issue in document.issues if issue.severity == "error"]
    return errors[0] if errors else f"{document.source.path}: failed"
