"""Patient identity: who a document belongs to, decided from what the report prints.

Contract: ``decide(printed, candidates)`` is a pure function. Given the patient block of a new document and
the stored patients that share its printed id or its normalised name, it returns a ``Decision``: attach to
one patient (certain), or create a new patient, with an ``IdentityIssue`` when a candidate looked like the
same person but could not be confirmed. Uncertain matches are never merged: a wrong merge mixes two
people's results in one report, which is worse than a split a human can join later.

Rules, in order:
1. same printed id, and neither name nor birth date contradicts -> same patient;
2. same normalised name and same birth date -> same patient (also when the printed ids differ: labs number
   their patients independently);
3. same printed id but a different name or birth date -> uncertain ('id_conflict');
4. same name, but a birth date missing on either side -> uncertain ('name_without_birth_date');
5. otherwise -> new patient.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

IssueCode = Literal["id_conflict", "name_without_birth_date", "no_identity"]
MatchKind = Literal["printed_id", "name_birth_date", "new"]

_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sr", "sra", "srta", "dona", "don", "herr", "frau"}
    | {"mme", "mlle", "m", "sig", "sigra", "dott", "dottssa", "baby", "master"}
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


class IdentityIssue(BaseModel):
    """An uncertain match: the document went to a new patient, but it may be the same person as another."""

    model_config = ConfigDict(extra="forbid")

    code: IssueCode
    message: str
    """Plain explanation without names or identifiers (safe to log and show)."""
    patient_key: str | None = None
    """The patient the document was attached to (the new one); filled in by the store."""
    other_patient_key: str | None = None
    """The stored patient it resembles."""


@dataclass(frozen=True, slots=True)
class PrintedIdentity:
    """What a document prints about its patient, normalised for comparison."""

    printed_id: str | None
    name_norm: str | None
    birth_date: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored patient that shares the printed id or the normalised name."""

    key: str
    printed_ids: frozenset[str]
    name_norm: str | None
    birth_date: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    match: MatchKind
    patient_key: str | None
    """The stored patient to attach to; None means create a new one."""
    issues: tuple[IdentityIssue, ...] = ()


def normalise_name(name: str | None) -> str | None:
    """Case-, accent-, punctuation-, title- and order-insensitive form: 'DOE, John Mr.' -> 'doe john'."""
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    tokens = [t for t in _NON_WORD.sub(" ", plain).replace("_", " ").split() if t not in _TITLES]
    return " ".join(sorted(tokens)) or None


def normalise_id(printed_id: str | None) -> str | None:
    """Printed ids compare without case, spaces, separators or leading zeros ('00123-4' ~ '1234')."""
    if not printed_id:
        return None
    compact = re.sub(r"[\s\-_./:#]+", "", printed_id).casefold().lstrip("0")
    return compact or None


def names_compatible(a: str | None, b: str | None) -> bool:
    """False only if both names are known and neither holds the other's tokens (middle names vary)."""
    if a is None or b is None:
        return True
    ta, tb = set(a.split()), set(b.split())
    return ta <= tb or tb <= ta


def _dates_compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def decide(printed: PrintedIdentity, candidates: list[Candidate]) -> Decision:
    """Pick the stored patient this document belongs to, or say why a new one is created."""
    if printed.printed_id is not None:
        by_id = [c for c in candidates if printed.printed_id in c.printed_ids]
        agreeing = [
            c
            for c in by_id
            if names_compatible(printed.name_norm, c.name_norm)
            and _dates_compatible(printed.birth_date, c.birth_date)
        ]
        if agreeing:
            return Decision("printed_id", agreeing[0].key)
    else:
        by_id = []
    if printed.name_norm is not None and printed.birth_date is not None:
        same = [
            c for c in candidates if c.name_norm == printed.name_norm and c.birth_date == printed.birth_date
        ]
        if same:
            return Decision("name_birth_date", same[0].key)
    issues: list[IdentityIssue] = []
    if by_id:
        issues.append(
            IdentityIssue(
                code="id_conflict",
                message="The printed patient id matches a stored patient whose name or birth date differs; "
                "kept as a separate patient.",
                other_patient_key=by_id[0].key,
            )
        )
    elif printed.name_norm is not None:
        by_name = [
            c
            for c in candidates
            if c.name_norm == printed.name_norm and (printed.birth_date is None or c.birth_date is None)
        ]
        if by_name:
            issues.append(
                IdentityIssue(
                    code="name_without_birth_date",
                    message="The name matches a stored patient but a birth date is missing, so the match "
                    "cannot be confirmed; kept as a separate patient.",
                    other_patient_key=by_name[0].key,
                )
            )
    if printed.printed_id is None and printed.name_norm is None:
        issues.append(
            IdentityIssue(
                code="no_identity",
                message="The report prints neither a patient id nor a name; stored as a new patient.",
            )
        )
    return Decision("new", None, tuple(issues))
