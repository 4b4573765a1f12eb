"""Command line: arguments -> Settings -> API -> exit code. Results go to stdout, messages to stderr."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from pipeline.api import exit_code, failure_message, process_file
from pipeline.errors import ExitCode, LabreportError
from pipeline.models import Document
from pipeline.runner_cli import add_batch_parser, add_ocr_options, add_watch_parser
from pipeline.settings import Settings

log = logging.getLogger("labreport")


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    worst = ExitCode.OK
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
    for name in args.files:
        path = Path(name)
        document = process_file(path, settings)
        code = exit_code(document)
        worst = max(worst, code)
        if code != ExitCode.OK:
            print(f"labreport: {failure_message(document)}", file=sys.stderr)
        text = document.model_dump_json(indent=args.indent)
        if args.output:
            (args.output / f"{path.name}.json").write_text(text + "\n", encoding="utf-8")
        if args.json or not args.output:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    return int(worst)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.render.report import report_for_documents, report_for_patient
    from pipeline.store import Store

    if sum((bool(args.patient), bool(args.files), args.all)) != 1:
        print("labreport: give one of --patient ID, --all, or report files", file=sys.stderr)
        return int(ExitCode.USAGE)
    try:
        if args.files:
            documents = []
            for name in args.files:
                document = process_file(Path(name), settings)
                if exit_code(document) != ExitCode.OK:
                    print(f"labreport: {failure_message(document)}", file=sys.stderr)
                    continue
                documents.append(document)
            print(report_for_documents(documents, args.output).html)
            return 0
        with Store.from_settings(settings) as store:
            keys = [p.key for p in store.patients()] if args.all else [args.patient]
            for key in keys:
                print(report_for_patient(store, key, args.output / key if args.all else args.output).html)
    except LabreportError as exc:
        print(f"labreport: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


def _patients(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.store import Store

    with Store.from_settings(settings) as store:
        for patient in store.patients():
            print(patient.model_dump_json())
    return 0


def _schema(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(Document.model_json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labreport", description=__doc__)
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    commands = parser.add_subparsers(dest="command", required=True)

    extract = commands.add_parser("extract", help="extract results from lab report files")
    extract.add_argument("files", nargs="+", metavar="FILE")
    extract.add_argument("--json", action="store_true", help="print one JSON document per input to stdout")
    extract.add_argument("-o", "--output", type=Path, metavar="DIR", help="write DIR/<file name>.json per input")
    extract.add_argument("--indent", type=int, default=None, help="indent the JSON (default: one line per file)")
    add_ocr_options(extract)
    extract.set_defaults(run=_extract)

    report = commands.add_parser("report", help="interpret one patient's results over time; write the report")
    report.add_argument("files", nargs="*", metavar="FILE", help="report straight from these files")
    report.add_argument("--patient", help="a stored patient's key or printed id")
    report.add_argument("--all", action="store_true", help="one report per stored patient, in DIR/<patient key>/")
    report.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    report.add_argument("--db", help="database URL (default sqlite:///labreport.sqlite)")
    report.set_defaults(run=_report)

    patients = commands.add_parser("patients", help="list the patients in the database")
    patients.add_argument("--db", help="database URL (default sqlite:///labreport.sqlite)")
    patients.set_defaults(run=_patients)

    schema = commands.add_parser("schema", help="print the JSON Schema of the output document")
    schema.set_defaults(run=_schema)

    add_batch_parser(commands)
    add_watch_parser(commands)
    return parser


_SETTING_OPTIONS = {
    "ocr": "ocr",
    "ocr_languages": "ocr_languages",
    "ocr_fallback": "ocr_fallback",
    "db": "database_url",
    "workers": "workers",
    "executor": "executor",
    "scheduler": "scheduler",
}


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the options given on the command line (a Dask
    scheduler given without an executor implies the Dask executor)."""
    overrides = {
        field: value for option, field in _SETTING_OPTIONS.items() if (value := vars(args).get(option)) is not None
    }
    if overrides.get("scheduler") and "executor" not in overrides:
        overrides["executor"] = "dask"
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        print(f"labreport: invalid option: {exc.errors()[0]['msg']}", file=sys.stderr)
        return int(ExitCode.USAGE)
    try:
        code = int(args.run(args, settings))
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return code
    except BrokenPipeError:
        # `labreport ... | head` ends quietly. SIGPIPE is left ignored (Python's default), because a worker
        # process that dies would otherwise take the whole batch down with it through its closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
