"""Whatever the bytes, a parser returns a ParsedLockfile or raises LockfileError: nothing else."""

from __future__ import annotations

import pytest

from scanners.lockfiles import parse_lockfile
from scanners.lockfiles.base import LockfileError, ParsedLockfile
from tests.scanners.lockfiles._helpers import BINARY, FIXTURES, assert_unreadable

_REAL = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file() and p.name != "README.md" and not p.name.endswith((".py", ".pyproject.toml"))
)
_NAME_FOR_DIR = {
    "requirements": "requirements.txt",
    "poetry": "poetry.lock",
    "uv": "uv.lock",
    "pipfile": "Pipfile.lock",
    "pdm": "pdm.lock",
    "pylock": "pylock.toml",
}


def _lock_name(path) -> str:
    directory = path.relative_to(FIXTURES).parts[0]
    if directory in _NAME_FOR_DIR:
        return _NAME_FOR_DIR[directory]
    # hashed/: the tools' own names, poetry's prefixed with the project ("winedge-poetry11.lock").
    return "requirements.txt" if path.suffix == ".txt" else ("poetry.lock" if "poetry" in path.name else path.name)


def _outcome(name: str, text: str) -> ParsedLockfile | LockfileError:
    try:
        return parse_lockfile(name, text, read_file=lambda _p: text)
    except LockfileError as exc:
        return exc


@pytest.mark.parametrize("path", _REAL, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_prefix_of_a_real_file_is_handled(path) -> None:
    text = path.read_text()
    name = _lock_name(path)
    outcomes = [_outcome(name, text[:cut]) for cut in range(0, len(text), max(len(text) // 37, 1))]
    assert all(isinstance(o, (ParsedLockfile, LockfileError)) for o in outcomes)
    assert isinstance(_outcome(name, text), ParsedLockfile)


WRONG_SHAPES_TOML = [
    "package = [{name = 1, version = [], files = 'x', source = 3, dependencies = 5, markers = 4, groups = 7}]",
    "package = [{name = 'a', version = '1', files = [1, {file = 2}], source = {type = 'git'}, dependencies = []}]",
    "version = 1\npackage = [{name = 'a', version = '1', source = 'x', wheels = 'y', sdist = 3, dependencies = 'z'}]",
    "version = 1\npackage = [{name = 'a', version = '1', optional-dependencies = 1, dev-dependencies = {x = 1}}]",
    "metadata = 3\npackage = [{name = 'a', version = '1', marker = 1, extras = 'x', files = {}}]",
    "metadata = {files = 3, targets = 'x'}\npackage = []",
    "metadata = {files = {a = 3}}\npackage = [{name = 'a', version = '1'}]",
    "lock-version = '1.0'\ncreated-by = 'x'\npackages = [{name = 3}]",
    "lock-version = 1\ncreated-by = 'x'\npackages = [3, 'x']",
    "[manifest]\nmembers = 3\n[[package]]\nname = 'a'\nsource = {editable = '.'}\ndependencies = [{name = 'a'}]",
]
WRONG_SHAPES_JSON = [
    '{"default": [], "develop": {"a": 1}}',
    '{"default": {"a": {"version": ["=="], "markers": 3, "extras": "x", "git": 1}}}',
    '{"default": {"a": {"editable": true}, "b": {"file": "x"}, "c": {"version": "*"}}}',
    "3",
    '"string"',
    "null",
]


@pytest.mark.parametrize("text", WRONG_SHAPES_TOML)
@pytest.mark.parametrize("name", ["poetry.lock", "uv.lock", "pdm.lock", "pylock.toml"])
def test_wrong_shapes_in_toml_locks(name: str, text: str) -> None:
    outcome = _outcome(name, text)
    assert isinstance(outcome, (ParsedLockfile, LockfileError))
    if isinstance(outcome, ParsedLockfile):
        assert outcome.problems or outcome.packages == () or all(p.name for p in outcome.packages)


@pytest.mark.parametrize("text", WRONG_SHAPES_JSON)
def test_wrong_shapes_in_pipfile_lock(text: str) -> None:
    assert isinstance(_outcome("Pipfile.lock", text), (ParsedLockfile, LockfileError))


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty file"), ("   \n\n", "empty file"), ("\ufeff", "empty file"), (BINARY, "binary")],
)
@pytest.mark.parametrize("name", ["poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "pylock.toml"])
def test_empty_or_binary_structured_locks_are_refused(name: str, text: str, message: str) -> None:
    # An empty TOML/JSON lock is a failed write, not a project without dependencies.
    assert_unreadable(name, text, message=message, line=None)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "poetry.lock",
            '[metadata]\nlock-version = "2.0"\n\n[[package]]\nname = "ok"\nversion = "1"\n\n[[package]]\nname = "bad"\n',
            "poetry.lock:8: package[1].version: bad: missing version",
        ),
        (
            "pdm.lock",
            '[metadata]\ngroups = ["default"]\n\n[[package]]\nname = "x"\nmarker = "os_name <<< 1"\nversion = "1"\n',
            "pdm.lock:4: package[0].marker: invalid marker",
        ),
        (
            "uv.lock",
            'version = 1\n\n[[package]]\nname = "ok"\nversion = "1"\n\n[[package]]\nname = "Bad Name!"\n',
            "uv.lock:7: package[1].name: invalid package name",
        ),
        (
            "pylock.toml",
            'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "ok"\nversion = "1"\n'
            '[[packages.wheels]]\nurl = "https://index.test/ok-1-py3-none-any.whl"\nhashes = {sha256 = "00"}\n\n'
            '[[packages]]\nname = "bad"\nversion = "1"\n',
            "pylock.toml:11: packages[1]: Exactly one of",
        ),
    ],
)
def test_problems_name_file_and_line(name: str, text: str, expected: str) -> None:
    # A key path alone ("package[37]") makes a user count [[package]] headers by hand.
    parsed = parse_lockfile(name, text)
    assert [str(p)[: len(expected)] for p in parsed.problems] == [expected]
    assert parsed.problems[0].line == int(expected.split(":")[1])
