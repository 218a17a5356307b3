# The two commands of the README: `make book` and `make test`.
# Each creates .venv (if needed) from the exact pins in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Per-cell limits are generous so that a busy machine does not fail the build or the
# notebook check (chapters take 20-30 s when idle); speed is judged by benchmarks/.
NBVAL_CELL_TIMEOUT ?= 1800

.PHONY: book test lint unit notebooks book-pages browser-deps clean assignments

$(STAMP): constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,book]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## Build the rendered book into _build/html, executing every chapter on the embedded data.
book: $(STAMP)
	@if [ -f scripts/vendor_book_assets.py ]; then $(BIN)/python scripts/vendor_book_assets.py; fi
	ANATOMY3D_BOOK_BUILD=1 $(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

## Run every test: lint, unit tests, nbval over the chapters, then build the book and
## check every page in headless Chromium.
test: $(STAMP) browser-deps lint assignments unit notebooks book-pages

## Build the course kit's student and instructor releases into course/release (nbgrader).
## Grading them is checked by tests/test_course_kit.py (in `unit`).
assignments: $(STAMP)
	$(BIN)/python course/kit.py build

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	$(BIN)/pytest tests -q -p no:cacheprovider --ignore=tests/test_book_pages.py

notebooks: $(STAMP)
	@if ls book/*.ipynb >/dev/null 2>&1; then \
		$(BIN)/pytest --nbval-lax --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) -q -p no:cacheprovider book/; \
	else echo "no chapter notebooks yet"; fi

book-pages: book
	ANATOMY3D_REQUIRE_BOOK=1 $(BIN)/pytest tests/test_book_pages.py -q -p no:cacheprovider

# Headless Chromium for the browser tests (Debian package; installed only when missing).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "warning: could not install chromium; browser tests will be skipped"; \
		else echo "note: chromium not found and not root; browser tests will be skipped"; fi; \
	fi

clean:
	rm -rf _build .jupyter_cache
