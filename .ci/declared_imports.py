"""Every third-party package the code imports is declared in pyproject.toml by its own name.

A package that arrives only as another one's dependency (polib through wagtail-localize, taggit
through wagtail) works until that dependency drops it; declaring it pins what the code relies on.
Reads the imports of every .py file of the project (migrations, tests and bench included) and maps
each top-level module to the distributions that install it; fails when none of them is named in
``[project] dependencies`` or an optional-dependencies extra. Run with the project's venv:
``.venv/bin/python .ci/declared_imports.py``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".git", "node_modules", "media", "var", "static"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return {_normalise(Requirement(line).name) for line in requirements}


def first_party() -> set[str]:
    names = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    return names | {path.stem for path in ROOT.glob("*.py")}


def imports() -> dict[str, set[str]]:
    """Top-level module -> the files that import it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIP_DIRS & set(relative.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.partition(".")[0], set()).add(str(relative))
    return found


def main() -> int:
    ours = first_party()
    allowed = declared()
    owners = packages_distributions()
    problems = []
    for module, files in sorted(imports().items()):
        if module in ours or module in sys.stdlib_module_names:
            continue
        distributions = owners.get(module)
        if not distributions:
            problems.append(f"{module}: not installed (imported by {', '.join(sorted(files))})")
        elif not any(_normalise(dist) in allowed for dist in distributions):
            problems.append(
                f"{module}: installed by {', '.join(sorted(set(distributions)))}, which"
                f" pyproject.toml does not declare (imported by {', '.join(sorted(files))})"
            )
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"declared imports: {len(problems)} undeclared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
