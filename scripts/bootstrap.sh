#!/usr/bin/env bash
# Install everything labreport needs on a fresh Debian machine, idempotently:
#   system packages: Tesseract 5 with eng spa por ita fra deu + osd (OCR); with --test also Chromium (the
#   HTML report's browser test) and PostgreSQL (the store's PostgreSQL test); a virtual environment .venv
#   with the project and its extras, at the versions pinned in constraints.txt.
# Re-running is cheap: packages already present and an unchanged pyproject.toml are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-spa tesseract-ocr-por
          tesseract-ocr-ita tesseract-ocr-fra tesseract-ocr-deu python3-venv)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium fonts-dejavu-core postgresql)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.labreport-installed
want=$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev,rapidocr,dask,postgres]"
  echo "$want" > "$stamp"
fi
