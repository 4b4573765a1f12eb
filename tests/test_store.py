"""Store: idempotent adds, patient identity, concurrent writers, crash-retry, reads, and PostgreSQL by URL."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from pipeline.interpret import observations_from_document
from pipeline.models import Patient
from pipeline.store import Store, identity, writer
from pipeline.store.schema import ReportRow, ResultRow
from tests.report_factory import LIVER, make_series


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'lab.sqlite'}") as s:
        yield s


def _count(url: str, table: type[ReportRow] | type[ResultRow]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------
# Idempotence


def test_same_file_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    doc = make_series(1)[0]
    first = store.add_document(doc)
    second = store.add_document(doc)
    assert (first.status, second.status) == ("added", "duplicate")
    assert second.report_id == first.report_id and second.patient_key == first.patient_key
    assert second.results == first.results == len(doc.results)
    assert len(store.patients()) == 1
    assert _count(store.url, ReportRow) == 1
    assert _count(store.url, ResultRow) == len(doc.results)


def test_sha256_from_file_when_document_lacks_it(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 synthetic")
    doc = make_series(1)[0]
    doc = doc.model_copy(update={"source": doc.source.model_copy(update={"sha256": None, "path": str(path)})})
    outcome = store.add_document(doc)
    assert outcome.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.add_document(doc).status == "duplicate"


def test_crash_mid_add_leaves_nothing_and_retry_stores_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = make_series(1)[0]
    real = writer._result_row

    def crash(*args: object) -> dict[str, object]:
        raise RuntimeError("simulated crash after the report row was inserted")

    monkeypatch.setattr(writer, "_result_row", crash)
    with pytest.raises(RuntimeError):
        store.add_document(doc)
    assert store.patients() == []
    assert _count(store.url, ReportRow) == 0
    monkeypatch.setattr(writer, "_result_row", real)
    assert store.add_document(doc).status == "added"
    assert store.add_document(doc).status == "duplicate"
    assert _count(store.url, ReportRow) == 1


# --------------------------------------------------------------------------------------------------
# Identity

BASE = Patient(id="MRN-0042", name="Alex Example", sex="male", birth_date="1968-04-02")

IDENTITY_CASES = [
    # (second document's patient, same patient?, certain?, issue code)
    pytest.param(BASE, True, True, None, id="same-id-same-everything"),
    pytest.param(Patient(id=" mrn 0042"), True, True, None, id="same-id-normalised-no-name"),
    pytest.param(Patient(id="MRN-0042", name="EXAMPLE, ALEX"), True, True, None, id="same-id-name-reordered"),
    pytest.param(Patient(id="MRN-0042", name="Alex J. Example"), True, True, None, id="id-middle-initial"),
    pytest.param(
        Patient(id="OTHER-LAB-9", name="Álex  Example", birth_date="1968-04-02"),
        True,
        True,
        None,
        id="other-id-same-name-and-birth-date",
    ),
    pytest.param(Patient(name="Alex Example", birth_date="1968-04-02"), True, True, None, id="name-and-dob"),
    pytest.param(
        Patient(id="MRN-0042", name="Alex Example", birth_date="1971-09-30"),
        False,
        False,
        "id_conflict",
        id="same-id-other-birth-date",
    ),
    pytest.param(
        Patient(id="MRN-0042", name="Robin Sample"), False, False, "id_conflict", id="same-id-other-name"
    ),
    pytest.param(Patient(name="Alex Example"), False, False, "name_without_birth_date", id="name-only"),
    pytest.param(
        Patient(name="Alex Example", birth_date="1971-09-30"), False, True, None, id="same-name-other-dob"
    ),
    pytest.param(Patient(), False, True, "no_identity", id="nothing-printed"),
]


@pytest.mark.parametrize(("second", "same", "certain", "issue"), IDENTITY_CASES)
def test_identity(store: Store, second: Patient, same: bool, certain: bool, issue: str | None) -> None:
    docs = make_series(2, patient=BASE)
    first = store.add_document(docs[0])
    outcome = store.add_document(docs[1].model_copy(update={"patient": second}))
    assert outcome.status == "added"
    assert (outcome.patient_key == first.patient_key) is same
    assert outcome.patient_created is not same
    assert outcome.certain is certain
    assert [i.code for i in outcome.issues] == ([issue] if issue else [])
    stored = store.identity_issues(outcome.patient_key)
    assert [i.code for i in stored] == [i.code for i in outcome.issues]
    if issue in ("id_conflict", "name_without_birth_date"):
        assert stored[0].other_patient_key == first.patient_key
        assert store.identity_issues(first.patient_key) == stored


def test_certain_match_fills_in_missing_facts(store: Store) -> None:
    docs = make_series(2)
    first = store.add_document(docs[0].model_copy(update={"patient": Patient(id="X-7")}))
    fuller = Patient(id="X-7", sex="female", birth_date="1980-01-02")
    store.add_document(docs[1].model_copy(update={"patient": fuller}))
    [summary] = store.patients()
    assert summary.key == first.patient_key
    assert (summary.sex, summary.birth_date, summary.printed_ids) == ("female", "1980-01-02", ["X-7"])


def test_uncertain_match_is_never_merged_later(store: Store) -> None:
    """Once split, a third report with the first patient's full identity still goes to the first patient."""
    docs = make_series(3, patient=BASE)
    first = store.add_document(docs[0])
    store.add_document(docs[1].model_copy(update={"patient": Patient(name="Alex Example")}))
    third = store.add_document(docs[2])
    assert third.patient_key == first.patient_key and third.certain


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        pytest.param("DOE, John", "doe john", id="comma-upper"),
        pytest.param("Mr. John  Doe", "doe john", id="title"),
        pytest.param("José Núñez", "jose nunez", id="accents"),
        pytest.param("", None, id="empty"),
        pytest.param("Dr.", None, id="title-only"),
    ],
)
def test_normalise_name(raw: str, norm: str | None) -> None:
    assert identity.normalise_name(raw) == norm


def test_find_patients_by_key_or_printed_id(store: Store) -> None:
    outcome = store.add_document(make_series(1, patient=BASE)[0])
    assert [p.key for p in store.find_patients("mrn 0042")] == [outcome.patient_key]
    assert [p.key for p in store.find_patients(outcome.patient_key)] == [outcome.patient_key]
    assert store.find_patients("nobody") == []


# --------------------------------------------------------------------------------------------------
# Reads


def test_reads_return_what_went_in(store: Store) -> None:
    docs = make_series(4)
    outcomes = [store.add_document(d) for d in reversed(docs)]
    key = outcomes[0].patient_key
    assert {o.patient_key for o in outcomes} == {key}
    assert store.documents(key) == docs  # oldest draw first, whatever the insertion order
    reports = store.reports(key)
    assert [r.id for r in reports] == [d.source.sha256 for d in docs]
    assert [r.results for r in reports] == [len(LIVER)] * 4
    [summary] = store.patients()
    assert (summary.reports, summary.results) == (4, 4 * len(LIVER))
    assert summary.first_collected == f"{docs[0].collected_at}T08:30"

    observations = store.observations(key)
    assert len(observations) == 4 * len(LIVER)
    first = observations[0]
    source = docs[0].results[0]
    assert first.analyte == source.analyte and first.value == source.value
    assert first.collected_at == dt.date.fromisoformat(docs[0].collected_at or "")
    assert first.collected_time == dt.time(8, 30)
    assert first.report_id == docs[0].source.sha256
    assert first.lab == docs[0].lab.name
    assert first.bbox == source.bbox and first.page == source.page
    assert first.ref_text == (source.reference_range.text if source.reference_range else None)

    info = store.patient_info(key)
    assert (info.sex, info.birth_date) == ("male", dt.date(1968, 4, 2))
    assert info.age_on == dt.date.fromisoformat(docs[-1].collected_at or "")


def test_results_without_analyte_or_date_are_left_out_of_observations(store: Store) -> None:
    doc = make_series(1)[0]
    unknown = doc.results[0].model_copy(update={"analyte": None, "loinc": None})
    doc = doc.model_copy(update={"results": [unknown, *doc.results[1:]]})
    key = store.add_document(doc).patient_key
    assert len(store.observations(key)) == len(doc.results) - 1
    other = Patient(id="SYN-0099", name="Robin Sample", birth_date="1990-05-06")
    undated = make_series(1, seed=99, patient=other)[0].model_copy(update={"collected_at": None})
    key2 = store.add_document(undated).patient_key
    assert key2 != key
    assert store.observations(key2) == []


def test_sqlite_is_in_wal_mode(store: Store) -> None:
    engine = create_engine(store.url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


# --------------------------------------------------------------------------------------------------
# Concurrency: two processes adding the same documents to one SQLite file at once.


def _add_all(url: str, start_at: float, seed: int) -> list[str]:
    docs = make_series(12, seed=seed)
    while time.time() < start_at:
        time.sleep(0.005)
    with Store(url) as s:
        return [s.add_document(d).status for d in docs]


def test_two_processes_add_the_same_documents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5  # both children are importing by then; they then race
    with ctx.Pool(2) as pool:
        statuses = pool.starmap(_add_all, [(url, start_at, 3), (url, start_at, 3)])
    flat = [s for run in statuses for s in run]
    assert flat.count("added") == 12 and flat.count("duplicate") == 12
    with Store(url) as s:
        [patient] = s.patients()
        assert (patient.reports, patient.results) == (12, 12 * len(LIVER))
    assert _count(url, ReportRow) == 12


# --------------------------------------------------------------------------------------------------
# PostgreSQL by URL (psycopg 3), against a throwaway local server.


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a Unix socket; skipped with the reason when it cannot be had."""
    pytest.importorskip("psycopg", reason="psycopg 3 not installed (extra 'postgres')")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries not found (install the Debian package 'postgresql')")
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        prefix = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="labreport-pg-"))  # not under pytest's root-only tmp
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if prefix:
        for path in (base, sock):
            shutil.chown(path, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off"
    for command in (
        [*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
        [*prefix, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(base / "log"), "start"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(base, ignore_errors=True)
            pytest.fail(f"could not start PostgreSQL: {done.stderr.strip()[-400:]}")
    try:
        yield f"postgresql://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_postgresql_by_url(postgres_url: str) -> None:
    docs = make_series(3)
    with Store(postgres_url) as s:
        assert s.dialect == "postgresql"
        outcomes = [s.add_document(d) for d in docs]
        assert s.add_document(docs[0]).status == "duplicate"
        other = Patient(id="SYN-0042", name="Robin Sample")
        conflict = s.add_document(make_series(1, seed=11)[0].model_copy(update={"patient": other}))
        key = outcomes[0].patient_key
        assert {o.patient_key for o in outcomes} == {key}
        assert len(s.observations(key)) == 3 * len(LIVER)
        assert s.documents(key) == docs
        assert [i.code for i in s.identity_issues(key)] == ["id_conflict"]
        assert conflict.patient_key != key
    with Store(postgres_url) as again:  # schema creation is idempotent
        assert len(again.patients()) == 2
        engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 4
        engine.dispose()


def test_observations_match_the_engines_own_adapter(store: Store) -> None:
    """Observations built from the store's rows equal what the engine's adapter builds from the documents."""
    docs = make_series(3)
    key = [store.add_document(d) for d in docs][-1].patient_key
    expected = [o for d in docs for o in observations_from_document(d, d.source.sha256 or "")]
    assert sorted(store.observations(key), key=repr) == sorted(expected, key=repr)


def test_two_processes_add_the_same_documents_postgresql(postgres_url: str) -> None:
    admin = create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS race"))
        conn.execute(text("CREATE DATABASE race"))
    admin.dispose()
    url = postgres_url.replace("@/postgres?", "@/race?")
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5
    with ctx.Pool(2) as pool:
        statuses = pool.starmap(_add_all, [(url, start_at, 4), (url, start_at, 4)])
    flat = [s for run in statuses for s in run]
    assert flat.count("added") == 12 and flat.count("duplicate") == 12
    with Store(url) as s:
        [patient] = s.patients()
        assert (patient.reports, patient.results) == (12, 12 * len(LIVER))
