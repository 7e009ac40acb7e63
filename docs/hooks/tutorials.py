"""mkdocs hook: tutorials are rendered with their outputs.

A tutorial page ``docs/tutorials/NAME.md`` includes its script with the snippet line
``--8<-- "docs/tutorials/NAME.py"`` inside a python fence. At build time this hook executes the
script (jupytext percent format) cell by cell in a temporary directory, and replaces the fence
by the cells: markdown cells as text, code cells as code followed by what they printed and by
every PNG figure they wrote (embedded). An exception fails the build, so a tutorial that no
longer runs cannot be published.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

_INCLUDE = re.compile(r'```python\n--8<-- "(docs/tutorials/[\w-]+\.py)"\n```')
_CELL = re.compile(r"^# %%(.*)$", re.M)


def _cells(source: str) -> list[tuple[str, str]]:
    """(kind, text) per percent-format cell; kind is "markdown" or "code"."""
    parts = _CELL.split(source)
    out = []
    for header, body in zip(parts[1::2], parts[2::2], strict=True):
        kind = "markdown" if "[markdown]" in header else "code"
        out.append((kind, body.strip("\n")))
    return out


def _markdown(text: str) -> str:
    lines = [re.sub(r"^# ?", "", line) for line in text.splitlines()]
    return "\n".join(line for line in lines if not line.startswith("# "))  # the page has the title


def _run(script: Path) -> str:
    blocks, namespace = [], {"__name__": "__main__"}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for kind, text in _cells(script.read_text()):
                if kind == "markdown":
                    blocks.append(_markdown(text))
                    continue
                before = set(Path(tmp).glob("*.png"))
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    # a notebook runner: the cells are the repository's own tutorial code
                    exec(compile(text, str(script), "exec"), namespace)
                blocks.append(f"```python\n{text}\n```")
                if buf.getvalue().strip():
                    blocks.append(f"```text\n{buf.getvalue().rstrip()}\n```")
                for png in sorted(set(Path(tmp).glob("*.png")) - before):
                    data = base64.b64encode(png.read_bytes()).decode()
                    blocks.append(f"![{png.stem}](data:image/png;base64,{data})")
        finally:
            os.chdir(cwd)
    return "\n\n".join(blocks)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    root = Path(config["config_file_path"]).parent
    return _INCLUDE.sub(lambda m: _run(root / m.group(1)), markdown)
