"""The documentation stands alone: the site's front page is the README (links made relative to
docs/), and no docstring or page refers to specification files outside the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_as_index() -> str:
    text = (ROOT / "README.md").read_text()
    return text.replace("](docs/", "](").replace(
        "[BENCHMARKS.md](BENCHMARKS.md)", "[Benchmarks](benchmarks.md)"
    )


def test_front_page_is_the_readme():
    """Regenerate with: python -c 'from tests.docs.test_docs import *; write_index()'."""
    assert (ROOT / "docs" / "index.md").read_text() == readme_as_index()


def test_nothing_points_outside_the_repository():
    bad = []
    for p in [*(ROOT / "src").rglob("*.py"), *(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]:
        text = p.read_text()
        if "shared/theory" in text or "../shared" in text:
            bad.append(str(p.relative_to(ROOT)))
    assert bad == [], bad


_CITE = re.compile(
    r"([a-z][a-z-]*)\.md\s+§\s?(\d+(?:\.\d+)*)((?:\s*(?:,|and|–|-)\s*§?\d+(?:\.\d+)*)*)"
)


def _sections(page: Path) -> set[str]:
    heads = (re.match(r"#+\s+(\d+(?:\.\d+)*)[.\s]", line) for line in page.read_text().splitlines())
    return {m.group(1) for m in heads if m}


def test_every_section_citation_resolves():
    """``docs/theory/NAME.md §X.Y`` in a docstring or page names a heading that exists (the
    theory pages are the repository's own; a section number of an outside spec is a defect)."""
    pages = {p.stem: _sections(p) for p in (ROOT / "docs" / "theory").glob("*.md")}
    bad = []
    for p in [*(ROOT / "src").rglob("*.py"), *(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]:
        for i, line in enumerate(p.read_text().splitlines(), 1):
            for m in _CITE.finditer(line):
                nums = [m.group(2), *re.findall(r"\d+(?:\.\d+)*", m.group(3) or "")]
                bad += [
                    f"{p.relative_to(ROOT)}:{i}: {m.group(1)}.md §{n}"
                    for n in nums
                    if m.group(1) in pages and n not in pages[m.group(1)]
                ]
    assert bad == [], bad


def write_index() -> None:
    (ROOT / "docs" / "index.md").write_text(readme_as_index())


def test_site_config_generates_the_api_reference_and_lists_every_tutorial():
    yaml = __import__("pytest").importorskip("yaml")
    cfg = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in cfg["plugins"]]
    assert "mkdocstrings" in plugins and cfg["strict"] is True
    nav = str(cfg["nav"])
    for t in (ROOT / "docs" / "tutorials").glob("*.py"):
        assert f"tutorials/{t.stem}.md" in nav
        assert (ROOT / "docs" / "tutorials" / f"{t.stem}.md").exists()
