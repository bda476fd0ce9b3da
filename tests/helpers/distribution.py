"""What the Docker image's build context holds: the files the Dockerfile's COPY lines take, less .dockerignore.

There is no Docker engine in CI, so the tests rebuild this list the way `docker build` does
(COPY sources relative to the context, .dockerignore patterns with Go's `filepath.Match`
rules plus `**`, `!` exceptions, last match wins) and check or use it.
"""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for token in re.split(r"(\*\*/?|\*|\?)", pattern.strip("/")):
        if token.startswith("**"):
            parts.append("(?:.*/)?" if token.endswith("/") else ".*")
        elif token == "*":
            parts.append("[^/]*")
        elif token == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def ignore_rules(dockerignore: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) per line of .dockerignore."""
    rules = []
    if dockerignore.exists():
        for line in dockerignore.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                rules.append((line.startswith("!"), _pattern_regex(line.lstrip("!"))))
    return rules


def is_ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """A path is out of the context when it, or a folder above it, matches (the last matching rule decides)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for exception, pattern in rules:
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            ignored = not exception
    return ignored


def image_files(context: Path = REPO) -> dict[str, Path]:
    """Image path (relative to WORKDIR, or absolute) -> file of the context, for every COPY of the Dockerfile."""
    rules = ignore_rules(context / ".dockerignore")
    copied: dict[str, Path] = {}
    for keyword, arguments in dockerfile_instructions(context / "Dockerfile"):
        if keyword != "COPY":
            continue
        words = [w for w in shlex.split(arguments) if not w.startswith("--")]
        *sources, destination = words
        for source in sources:
            for path in sorted(context.glob(source)):
                files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
                for file in files:
                    relative = file.relative_to(context).as_posix()
                    if is_ignored(relative, rules):
                        continue
                    inside = file.relative_to(path).as_posix() if path.is_dir() else file.name
                    target = destination.rstrip("/") + "/" + inside if destination.endswith("/") or path.is_dir() \
                        or len(sources) > 1 else destination
                    copied[target.removeprefix("./")] = file
    return copied


def copy_image_files(target: Path, context: Path = REPO) -> Path:
    """Lay the image's WORKDIR files out under `target` (to build the package from what the image gets)."""
    for image_path, file in image_files(context).items():
        destination = target / image_path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)
    return target
