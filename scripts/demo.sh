#!/usr/bin/env bash
# The main job on the bundled fixtures with the embedded defaults (local worker processes, a SQLite file):
# extract every report below fixtures/reports and fixtures/series, store the results, and write one report
# per patient. Output goes to out/demo (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
rm -rf "$out"
mkdir -p "$out"
export LABREPORT_DATABASE_URL="sqlite:///$out/labreport.sqlite"
status=0
.venv/bin/labreport batch fixtures/reports --out "$out/results/reports" || status=$?
.venv/bin/labreport batch fixtures/series --out "$out/results/series" || status=$?
.venv/bin/labreport report --all -o "$out/reports" > "$out/reports.txt"
echo "demo: $(find "$out/results" -name "*.pdf.json" | wc -l) files extracted into $out/results," \
     "$(wc -l < "$out/reports.txt") patient reports under $out/reports (open report.html)" >&2
exit "$status"
