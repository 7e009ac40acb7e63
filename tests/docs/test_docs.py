"""The documentation stands alone: the site's front page is the README (links made relative to
docs/), and no docstring or page refers to specification files outside the repository."""

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
