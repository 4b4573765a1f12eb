"""Extract every report that has a truth file in a folder and print the field-by-field score.

    python -m bench.score_fixtures [TRUTH_DIR] [--reports DIR] [--out DIR]

Defaults to fixtures/truth with the reports beside it in fixtures/reports (and fixtures/edge). Prints one
line per document, the totals, and every result claimed at confidence >= 0.9 that is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fixtures.scoring import Score, load_truth, score_document
from pipeline.api import process_file
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("truth", nargs="?", type=Path, default=ROOT / "fixtures" / "truth")
    parser.add_argument("--reports", type=Path, action="append", help="folders holding the reports")
    parser.add_argument("--out", type=Path, help="also write <name>.json per report here")
    args = parser.parse_args()
    folders = args.reports or [args.truth.parent / "reports", args.truth.parent / "edge", args.truth]
    settings = Settings()
    total = Score()
    print(
        f"{'document':48} {'truth':>5} {'pred':>5} {'tp':>4} {'value':>5} {'unit':>5} {'range':>5} "
        f"{'flag':>5} {'conf':>5} {'bad':>4}"
    )
    for truth_path in sorted(args.truth.glob("*.truth.json")):
        name = truth_path.name[: -len(".truth.json")]
        report = next((folder / name for folder in folders if (folder / name).exists()), None)
        if report is None:
            continue
        document = process_file(report, settings)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}.json").write_text(document.model_dump_json(indent=1), encoding="utf-8")
        s = score_document(load_truth(truth_path), document)
        total.add(s)
        print(
            f"{name[:48]:48} {s.truth:5} {s.predicted:5} {s.matched:4} {s.value:5} {s.unit:5} {s.range:5} "
            f"{s.flag:5} {s.confident:5} {s.confident_wrong:4}"
        )
    print(total.summary())
    for line in total.wrong:
        print("  confident but wrong:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
