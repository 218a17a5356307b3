"""CITATION.cff agrees with the package metadata and with the book's bibliography."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def _bib_entry(key: str) -> dict[str, str]:
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    match = re.search(r"@\w+\{" + re.escape(key) + r",(.*?)\n\}", text, re.S)
    assert match, f"{key} missing from book/references.bib"
    return {k: v for k, v in re.findall(r"(\w+)\s*=\s*\{(.*?)\},?\n", match.group(1) + "\n")}


def test_software_fields_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    cff = _citation()
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"]


def test_preferred_citation_is_the_books_entry_for_the_paper():
    paper = _citation()["preferred-citation"]
    bib = _bib_entry("chen2020anatomy")
    assert paper["title"] == bib["title"]
    assert str(paper["year"]) == bib["year"]
    bib_authors = [tuple(a.split(", ")) for a in bib["author"].split(" and ")]
    cff_authors = [(a["family-names"], a["given-names"]) for a in paper["authors"]]
    assert cff_authors == bib_authors
    assert f"arXiv:{bib['eprint']}" in [i["value"] for i in paper["identifiers"]]
