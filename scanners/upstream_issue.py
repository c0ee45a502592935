"""The upstream issue to file when only a package's maintainers can help: no release has a wheel
for a target, and neither a replacement nor a parent upgrade gets around it.

A draft names the platform tags to build (:func:`missing_platform_tags`), the Python versions
needed and how many services it blocks (a count: internal repository names never leave the
organisation), and links to the project's GitHub/GitLab tracker found in its core metadata
(:func:`find_tracker`): a pre-filled "new issue" link that fits in a URL, and a search for
existing issues. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

from packaging.utils import canonicalize_name

from scanners.targets import Target

__all__ = [
    "MAX_ISSUE_URL",
    "Tracker",
    "UpstreamDraft",
    "draft_upstream_issue",
    "find_tracker",
    "missing_platform_tags",
]

MAX_ISSUE_URL = 6000
"""Longest pre-filled "new issue" URL we emit: browsers and GitHub/GitLab front ends reject
much longer ones (GitHub answers 414 above about 8 KB), so the body is cut to fit."""


def missing_platform_tags(targets: Sequence[Target]) -> tuple[str, ...]:
    """The platform tags a maintainer should build for ``targets``, sorted.

    manylinux_2_17 (manylinux2014) is what cibuildwheel builds by default and installs on every
    glibc image of the last decade; musllinux_1_2 on every Alpine since 3.13. Asking for the
    target's exact glibc would ask for a wheel that older images could not use.
    """
    tags = set()
    for t in targets:
        if t.libc == "glibc":
            tags.add(f"manylinux_2_17_{t.arch}")
        else:
            tags.add(f"musllinux_{t.libc_version.replace('.', '_')}_{t.arch}")
    return tuple(sorted(tags))


@dataclass(frozen=True, slots=True)
class Tracker:
    """A project's issue tracker on GitHub or GitLab: ``repo_url`` is ``https://github.com/o/r``."""

    host: Literal["github", "gitlab"]
    repo_url: str

    def new_issue_url(self, title: str, body: str, *, limit: int = MAX_ISSUE_URL) -> str:
        """A "new issue" link pre-filled with ``title`` and ``body``, cut to ``limit`` characters.

        The body is shortened (with a note) rather than the URL truncated, because a URL cut in
        the middle of a percent escape is rejected by the tracker.
        """
        if self.host == "github":
            base, keys = f"{self.repo_url}/issues/new?", ("title", "body")
        else:
            base, keys = f"{self.repo_url}/-/issues/new?", ("issue[title]", "issue[description]")
        title = title[:200]
        cut, keep = body, len(body)
        while True:
            url = base + urlencode({keys[0]: title, keys[1]: cut}, quote_via=quote)
            if len(url) <= limit or not cut:
                return url
            # Percent-encoding grows text up to ninefold: shrink in proportion (always by at
            # least one character, so this ends), then retry.
            keep = max(0, min(keep - 1, int(keep * limit / len(url)) - 80))
            cut = (body[:keep].rstrip() + "\n\n(shortened: see the full draft on the dashboard)") if keep else ""

    def search_url(self, terms: str) -> str:
        """Existing issues that mention ``terms`` (e.g. ``aarch64 wheel``)."""
        if self.host == "github":
            return f"{self.repo_url}/issues?" + urlencode({"q": f"is:issue {terms}"}, quote_via=quote)
        return f"{self.repo_url}/-/issues?" + urlencode({"search": terms}, quote_via=quote)


_TRACKER_LABELS = (
    "issues",
    "issue tracker",
    "bug tracker",
    "bugs",
    "tracker",
    "source",
    "source code",
    "repository",
    "code",
    "github",
    "gitlab",
    "homepage",
    "home",
    "home page",
)


def find_tracker(project_urls: Sequence[tuple[str, str]], home_page: str | None = None) -> Tracker | None:
    """The GitHub/GitLab repository of a project, from its core metadata's Project-URL entries.

    Labels are tried in this order: Issues/Bug Tracker, then Source/Repository, then Homepage
    (and the legacy Home-page field): a tracker label is the most specific, a home page may be
    a documentation site. Labels are compared normalised (case, spaces, dashes), as PEP 753 says.
    """

    def norm(label: str) -> str:
        return re.sub(r"[\s_\-.:]+", " ", label).strip().lower()

    ranked = sorted(
        (
            (_TRACKER_LABELS.index(norm(label)) if norm(label) in _TRACKER_LABELS else len(_TRACKER_LABELS), url)
            for label, url in project_urls
        ),
        key=lambda p: p[0],
    )
    urls = [url for _, url in ranked] + ([home_page] if home_page else [])
    for url in urls:
        tracker = _tracker_from_url(url)
        if tracker is not None:
            return tracker
    return None


def _tracker_from_url(url: str) -> Tracker | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host == "github.com" and len(segments) >= 2:
        return Tracker("github", f"https://github.com/{segments[0]}/{segments[1].removesuffix('.git')}")
    if host == "gitlab.com" and len(segments) >= 2:
        # GitLab groups nest: the project path ends before "/-/" or a tracker word.
        path: list[str] = []
        for s in segments:
            if s == "-" or (path and s in ("issues", "tree", "blob", "merge_requests", "wikis")):
                break
            path.append(s)
        if len(path) >= 2:
            return Tracker("gitlab", "https://gitlab.com/" + "/".join(p.removesuffix(".git") for p in path))
    return None


@dataclass(frozen=True, slots=True)
class UpstreamDraft:
    """A drafted upstream issue; the links are empty when no tracker is known."""

    package: str
    title: str
    body: str
    platform_tags: tuple[str, ...]
    pythons: tuple[str, ...]
    repos_blocked: int
    tracker: Tracker | None
    new_issue_url: str
    search_url: str


def _python_key(p: str) -> tuple[int, ...]:
    return tuple(int(x) for x in p.split(".") if x.isdigit())


def draft_upstream_issue(
    *,
    package: str,
    platform_tags: Sequence[str],
    pythons: Sequence[str],
    repos_blocked: int,
    versions: Sequence[str] = (),
    project_urls: Sequence[tuple[str, str]] = (),
    home_page: str | None = None,
) -> UpstreamDraft:
    """The issue to file with ``package``'s maintainers asking for wheels on ``platform_tags``.

    ``repos_blocked`` is a count: internal repository names never leave the organisation.
    """
    name = canonicalize_name(package)
    tags = tuple(sorted(set(platform_tags)))
    pys = tuple(sorted(set(pythons), key=_python_key))
    arch_words = " and ".join(
        sorted({"aarch64" if "aarch64" in t else ("x86_64" if "x86_64" in t else t) for t in tags})
    )
    title = f"Wheels for {arch_words} Linux ({', '.join(tags)})"
    cp = ", ".join(f"CPython {p} (`cp{p.replace('.', '')}`)" for p in pys) or "the supported CPython versions"
    lines = [
        f"Hello, and thank you for {name}!",
        "",
        f"{name} publishes no wheel that installs on these platforms, so `pip install {name}` "
        "has to build it from source (or fails when no sdist matches):",
        "",
        *(f"- `{t}`" for t in tags),
        "",
        f"Python versions we need: {cp}.",
        "",
        f"This currently blocks {repos_blocked} of our services from building on "
        f"{'arm64 (e.g. AWS Graviton, Apple Silicon under Docker)' if 'aarch64' in ' '.join(tags) else 'these platforms'}.",
    ]
    if versions:
        lines += ["", f"Versions we use: {', '.join(sorted(set(versions), key=str))}."]
    lines += [
        "",
        "How such wheels can be built:",
        "- [cibuildwheel](https://cibuildwheel.pypa.io/) builds manylinux and musllinux wheels; "
        "on GitHub Actions the `ubuntu-24.04-arm` runners build aarch64 natively and quickly.",
        "- Without arm64 runners, cibuildwheel can cross-build under QEMU "
        "(`docker/setup-qemu-action` and `CIBW_ARCHS_LINUX: aarch64`), slower but no new infrastructure.",
        "- `musllinux_*` wheels come from the same cibuildwheel run (they are built by default).",
        "",
        "Would you accept a pull request adding this to the release workflow?",
    ]
    body = "\n".join(lines)
    tracker = find_tracker(project_urls, home_page)
    new_issue = tracker.new_issue_url(title, body) if tracker else ""
    search = tracker.search_url(f"{'aarch64' if 'aarch64' in arch_words else arch_words} wheel") if tracker else ""
    return UpstreamDraft(name, title, body, tags, pys, repos_blocked, tracker, new_issue, search)
