"""No lockfile parser lets a URL's password or token through into a text meant for a reader.

Private packages are pinned as ``pkg @ git+https://user:TOKEN@host/x.git`` (or a bare
``TOKEN@host``); the package's ``detail`` becomes the verdict reason shown on pages, exports and
``archcheck`` output, and problem messages quote the line. Each format spells such a source its
own way, so each is parsed for real here, and the analyser's reason is checked on the result.
"""

from __future__ import annotations

import pytest

from scanners.analyser import analyse_package
from scanners.lockfiles import LockedPackage, LockfileError, parse_lockfile
from scanners.targets import Target

TOKEN = "ghp_s3cretT0ken0123456789"
ARM = Target("linux/arm64", "3.11", "glibc", "2.36")

REQUIREMENTS = f"""\
--extra-index-url https://ci:{TOKEN}@index.test/simple
private @ git+https://user:{TOKEN}@git.test/acme/private.git@v1
bare @ git+https://{TOKEN}@git.test/acme/bare.git
archive @ https://user:{TOKEN}@files.test/archive-2.0.tar.gz
-e git+https://user:{TOKEN}@git.test/acme/editable.git#egg=editable
-r https://user:{TOKEN}@files.test/other.txt
git+https://user:{TOKEN}@git.test/acme/nameless.git
"""

POETRY = f"""\
[[package]]
name = "private"
version = "1.0"
optional = false
python-versions = "*"
files = []

[package.source]
type = "git"
url = "https://user:{TOKEN}@git.test/acme/private.git"
reference = "main"
resolved_reference = "abc"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "x"
"""

UV = f"""\
version = 1
revision = 2
requires-python = ">=3.11"

[[package]]
name = "private"
version = "1.0"
source = {{ git = "https://user:{TOKEN}@git.test/acme/private.git?rev=main#abc" }}

[[package]]
name = "archive"
version = "2.0"
source = {{ url = "https://{TOKEN}@files.test/archive-2.0.tar.gz" }}
"""

PIPFILE = f"""\
{{"_meta": {{"hash": {{"sha256": "x"}}, "pipfile-spec": 6, "requires": {{}}, "sources": []}},
 "default": {{
   "private": {{"git": "https://user:{TOKEN}@git.test/acme/private.git", "ref": "abc"}},
   "archive": {{"file": "https://user:{TOKEN}@files.test/archive-2.0.tar.gz"}}
 }},
 "develop": {{}}}}
"""

PDM = f"""\
[metadata]
lock_version = "4.4"
content_hash = "sha256:x"

[[package]]
name = "private"
git = "https://user:{TOKEN}@git.test/acme/private.git"
revision = "abc"

[[package]]
name = "archive"
version = "2.0"
url = "https://{TOKEN}@files.test/archive-2.0.tar.gz"
"""

PYLOCK = f"""\
lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "private"
vcs = {{ type = "git", url = "https://user:{TOKEN}@git.test/acme/private.git", commit-id = "abc" }}

[[packages]]
name = "archive"
version = "2.0"
archive = {{ url = "https://user:{TOKEN}@files.test/archive-2.0.tar.gz", hashes = {{ sha256 = "00" }} }}
"""

CASES = [
    ("requirements.txt", REQUIREMENTS, {"private", "bare", "archive", "editable"}),
    ("poetry.lock", POETRY, {"private"}),
    ("uv.lock", UV, {"private", "archive"}),
    ("Pipfile.lock", PIPFILE, {"private", "archive"}),
    ("pdm.lock", PDM, {"private", "archive"}),
    ("pylock.toml", PYLOCK, {"private", "archive"}),
]


@pytest.mark.parametrize(("path", "text", "names"), CASES, ids=[c[0] for c in CASES])
def test_no_token_in_details_problems_or_reasons(path: str, text: str, names: set[str]) -> None:
    parsed = parse_lockfile(path, text, read_file=lambda _: None)
    by_name = {p.name: p for p in parsed.packages}
    assert names <= set(by_name), parsed  # every tokened source was still read, only redacted
    for name in names:
        detail = by_name[name].detail or ""
        assert TOKEN not in detail
        assert "***@" in detail, detail  # the reader still sees that the URL has credentials, and its host
        reason = analyse_package(by_name[name], ARM, files=None).reason
        assert TOKEN not in reason and ("git.test" in reason or "files.test" in reason), reason
    for problem in parsed.problems:
        assert TOKEN not in str(problem), problem


def test_requirements_problems_quote_the_line_without_its_token() -> None:
    parsed = parse_lockfile("requirements.txt", REQUIREMENTS, read_file=lambda _: None)
    messages = [p.message for p in parsed.problems]
    assert "option --extra-index-url https://***@index.test/simple is not taken into account" in messages
    assert "requirement file https://***@files.test/other.txt is a URL: not followed" in messages
    assert "cannot tell the project name of 'git+https://***@git.test/acme/nameless.git' (add #egg=name)" in messages


def test_a_package_made_outside_a_parser_is_redacted_too() -> None:
    package = LockedPackage(
        name="x",
        version=None,
        lockfile="requirements.txt",
        source="vcs",  # type: ignore[arg-type]
        detail=f"VCS requirement git+https://{TOKEN}@git.test/x.git",
    )
    assert package.detail == "VCS requirement git+https://***@git.test/x.git"


def test_an_unreadable_file_error_does_not_quote_a_token() -> None:
    with pytest.raises(LockfileError) as excinfo:
        parse_lockfile("uv.lock", f'version = 1\n[[package]\nsource = "https://u:{TOKEN}@git.test"\n')
    assert TOKEN not in str(excinfo.value) and TOKEN not in excinfo.value.message


def test_urls_the_engine_downloads_from_keep_their_credentials() -> None:
    # A lock's file URL is where a deep check fetches the wheel: redacting it would break the fetch.
    text = f"""\
lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "six"
version = "1.17.0"
wheels = [{{ name = "six-1.17.0-py2.py3-none-any.whl", url = "https://u:{TOKEN}@index.test/six-1.17.0-py2.py3-none-any.whl", hashes = {{ sha256 = "00" }} }}]
"""
    (six,) = parse_lockfile("pylock.toml", text).packages
    assert six.files is not None and TOKEN in (six.files[0].url or "")
