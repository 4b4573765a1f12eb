#!/usr/bin/env bash
# The long benchmarks (not part of the tests); each prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
echo "== field parsers";        $py -m bench.parsers_bench
echo "== digital pages";        $py -m bench.digital_bench
echo "== fixtures vs truth";    $py -m bench.score_fixtures | tail -3
echo "== scanned pages";        $py -m bench.scan_bench
echo "== OCR engine";           $py -m bench.ocr_bench --only speed
echo "== report";               $py -m bench.report_bench
echo "== batch";                $py -m bench.batch_bench
echo "== batch on Dask";       $py -m bench.batch_bench --executor dask
echo "== drop-folder soak";    $py -m bench.soak
