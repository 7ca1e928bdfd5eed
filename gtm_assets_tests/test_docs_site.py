"""The docs site's pages point at files that exist: every relative link and image in docs/ and the README
(mkdocs --strict checks links between pages, not images)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _broken_targets(page: Path) -> list[str]:
    targets = [t for t in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", t)]
    return [t for t in targets if not (page.parent / t).exists()]


def test_every_relative_link_and_image_in_the_docs_and_readme_exists():
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = {page.name: missing for page in pages if (missing := _broken_targets(page))}
    assert broken == {}
    assert len(pages) > 5
