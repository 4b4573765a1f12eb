# The two commands of the README. Each installs what it needs first (scripts/bootstrap.sh).
.PHONY: demo test bench

VENV := .venv/bin

demo:
	bash scripts/bootstrap.sh
	bash scripts/demo.sh

test:
	bash scripts/bootstrap.sh --test
	$(VENV)/ruff check pipeline parsers fixtures tests bench
	$(VENV)/mypy
	$(VENV)/pytest -q -n 2

bench:
	bash scripts/bootstrap.sh
	bash scripts/bench.sh
