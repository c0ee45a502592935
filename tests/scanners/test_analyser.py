"""The analyser's verdicts, case by case: pip's choice of file for an exact pin on a target."""

from __future__ import annotations

import pytest

from scanners.analyser import Verdict, analyse_package, applies, decide, wheel_rank
from scanners.distributions import DistributionFile
from scanners.lockfiles.base import LockedPackage
from scanners.targets import Target

ARM = Target("linux/arm64", "3.11", "glibc", "2.36")
AMD = Target("linux/amd64", "3.11", "glibc", "2.36")
ARM_OLD = Target("linux/arm64", "3.11", "glibc", "2.17")
AMD_MUSL = Target("linux/amd64", "3.12", "musl", "1.2")
ARM_MUSL_11 = Target("linux/arm64", "3.12", "musl", "1.1")
AMD_39 = Target("linux/amd64", "3.9", "glibc", "2.28")


def F(filename: str, *, rp: str | None = None, yanked: bool | str = False) -> DistributionFile:
    return DistributionFile(filename, requires_python=rp, yanked=yanked)


ML = "manylinux_2_17_{a}.manylinux2014_{a}"
NUMPY = [
    F("numpy-1.26.4.tar.gz", rp=">=3.9"),
    *(
        F(f"numpy-1.26.4-cp{v}-cp{v}-{ML.format(a=a)}.whl", rp=">=3.9")
        for v in ("39", "310", "311", "312")
        for a in ("x86_64", "aarch64")
    ),
    *(F(f"numpy-1.26.4-cp{v}-cp{v}-musllinux_1_1_x86_64.whl", rp=">=3.9") for v in ("39", "310", "311", "312")),
    *(F(f"numpy-1.26.4-cp{v}-cp{v}-macosx_11_0_arm64.whl", rp=">=3.9") for v in ("39", "310", "311", "312")),
    *(F(f"numpy-1.26.4-cp{v}-cp{v}-win_amd64.whl", rp=">=3.9") for v in ("39", "310", "311", "312")),
]
PSUTIL = [
    F("psutil-5.9.8.tar.gz"),
    F(
        "psutil-5.9.8-cp36-abi3-manylinux_2_12_x86_64.manylinux2010_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    ),
    F("psutil-5.9.8-cp37-abi3-win_amd64.whl"),
    F("psutil-5.9.8-cp38-abi3-macosx_11_0_arm64.whl"),
]
FIL = [  # no aarch64 wheel and no sdist
    F("filprofiler-2022.5.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
    F("filprofiler-2022.5.0-cp39-cp39-macosx_10_15_x86_64.whl"),
]
TF_MACOS = [
    F("tensorflow_macos-2.13.0-cp311-cp311-macosx_12_0_arm64.whl"),
    F("tensorflow_macos-2.13.0-cp311-cp311-macosx_12_0_universal2.whl"),
]
REQUESTS = [F("requests-2.31.0-py3-none-any.whl", rp=">=3.7"), F("requests-2.31.0.tar.gz", rp=">=3.7")]
# Several wheels match: the exact ABI beats abi3, the newer manylinux beats the older one.
ORJSON = [
    F("orjson-3.9.0-cp37-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
    F("orjson-3.9.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
    F("orjson-3.9.0-cp311-cp311-manylinux_2_28_aarch64.whl"),
    F("orjson-3.9.0-py3-none-any.whl"),
    F("orjson-3.9.0.tar.gz"),
]


@pytest.mark.parametrize(
    ("files", "target", "status", "file", "flags"),
    [
        # best tag wins
        (NUMPY, ARM, "wheel", "numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", {}),
        (NUMPY, AMD_39, "wheel", "numpy-1.26.4-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", {}),
        (ORJSON, ARM, "wheel", "orjson-3.9.0-cp311-cp311-manylinux_2_28_aarch64.whl", {}),
        (ORJSON, ARM_OLD, "wheel", "orjson-3.9.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", {}),
        (ORJSON, AMD, "wheel", "orjson-3.9.0-py3-none-any.whl", {"pure": True}),
        (
            ORJSON[:1] + ORJSON[3:],
            ARM,
            "wheel",
            "orjson-3.9.0-cp37-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            {},
        ),
        # musllinux vs manylinux
        (NUMPY, AMD_MUSL, "wheel", "numpy-1.26.4-cp312-cp312-musllinux_1_1_x86_64.whl", {}),
        (NUMPY, ARM_MUSL_11, "sdist", "numpy-1.26.4.tar.gz", {"native_elsewhere": True}),
        # sdist-only and native elsewhere
        (PSUTIL, ARM, "sdist", "psutil-5.9.8.tar.gz", {"native_elsewhere": True}),
        (PSUTIL, AMD, "wheel", PSUTIL[1].filename, {}),
        (PSUTIL[:1], ARM, "sdist", "psutil-5.9.8.tar.gz", {"native_elsewhere": False}),
        # no sdist -> none
        (FIL, ARM, "none", None, {"native_elsewhere": True}),
        (FIL, AMD_39, "wheel", FIL[0].filename, {}),
        (FIL, AMD, "none", None, {"native_elsewhere": True}),  # cp39 wheel on 3.11
        # universal2 / macOS only -> none on linux
        (TF_MACOS, ARM, "none", None, {"native_elsewhere": True}),
        (TF_MACOS, AMD, "none", None, {"native_elsewhere": True}),
        # pure
        (REQUESTS, ARM_MUSL_11, "wheel", "requests-2.31.0-py3-none-any.whl", {"pure": True}),
        ([], ARM, "none", None, {}),
    ],
)
def test_decide(
    files: list[DistributionFile], target: Target, status: str, file: str | None, flags: dict[str, bool]
) -> None:
    verdict = decide(files, target)
    assert (verdict.status, verdict.file) == (status, file), verdict.reason
    for flag, value in flags.items():
        assert getattr(verdict, flag) is value, flag
    assert verdict.reason


@pytest.mark.parametrize(
    ("files", "target", "status", "file", "reason_part"),
    [
        # Requires-Python excludes the best wheel: the next one wins
        (
            [F("lib-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", rp=">=3.12"), F("lib-1.0-py3-none-any.whl")],
            ARM,
            "wheel",
            "lib-1.0-py3-none-any.whl",
            "pure-Python",
        ),
        # Requires-Python excludes everything -> none, saying why
        (
            [F("lib-1.0-py3-none-any.whl", rp=">=3.12"), F("lib-1.0.tar.gz", rp=">=3.12")],
            ARM,
            "none",
            None,
            "requires Python >=3.12, not 3.11",
        ),
        # "3.11" is padded to 3.11.0: a >3.11 specifier excludes it, as in pip
        ([F("lib-1.0-py3-none-any.whl", rp=">3.11")], ARM, "none", None, "requires Python"),
        ([F("lib-1.0-py3-none-any.whl", rp="==3.11.*")], ARM, "wheel", "lib-1.0-py3-none-any.whl", "pure"),
        # an invalid Requires-Python is ignored, as pip ignores it
        ([F("lib-1.0-py3-none-any.whl", rp=">=3.6,,<")], ARM, "wheel", "lib-1.0-py3-none-any.whl", "pure"),
        # a full python version is honoured
        ([F("lib-1.0-py3-none-any.whl", rp=">=3.11.4")], Target("linux/arm64", "3.11.3"), "none", None, ">=3.11.4"),
        (
            [F("lib-1.0-py3-none-any.whl", rp=">=3.11.4")],
            Target("linux/arm64", "3.11.9"),
            "wheel",
            "lib-1.0-py3-none-any.whl",
            "pure",
        ),
    ],
)
def test_requires_python(
    files: list[DistributionFile], target: Target, status: str, file: str | None, reason_part: str
) -> None:
    verdict = decide(files, target)
    assert (verdict.status, verdict.file) == (status, file)
    assert reason_part in verdict.reason


WHL = "lib-1.0-cp311-cp311-manylinux_2_17_aarch64.whl"
ANY = "lib-1.0-py3-none-any.whl"
SDIST = "lib-1.0.tar.gz"


@pytest.mark.parametrize(
    ("files", "pinned", "status", "file", "yanked"),
    [
        # a yanked wheel next to a good one: the good one, even when it ranks lower
        ([F(WHL, yanked="broken"), F(ANY)], True, "wheel", ANY, False),
        # yanked wheel + non-yanked sdist => sdist (not all applicable files are yanked)
        ([F(WHL, yanked=""), F(SDIST)], True, "sdist", SDIST, False),
        # everything yanked: installed only for an exact pin
        ([F(WHL, yanked="bad"), F(SDIST, yanked="bad")], True, "wheel", WHL, True),
        ([F(WHL, yanked="bad"), F(SDIST, yanked="bad")], False, "none", None, False),
        ([F(SDIST, yanked=True)], True, "sdist", SDIST, True),
        # a yanked file that does not apply does not count
        ([F("lib-1.0-cp311-cp311-win_amd64.whl"), F(WHL, yanked="x")], True, "wheel", WHL, True),
    ],
)
def test_yanked(files: list[DistributionFile], pinned: bool, status: str, file: str | None, yanked: bool) -> None:
    verdict = decide(files, ARM, pinned=pinned)
    assert (verdict.status, verdict.file, verdict.yanked) == (status, file, yanked), verdict.reason
    if status == "none":
        assert "yanked" in verdict.reason


def test_build_tag_breaks_ties_and_later_file_wins_exact_ties() -> None:
    a = F("lib-1.0-1-cp311-cp311-manylinux_2_17_aarch64.whl")
    b = F("lib-1.0-2-cp311-cp311-manylinux_2_17_aarch64.whl")
    c = F("lib-1.0-cp311-cp311-manylinux_2_17_aarch64.whl")
    assert decide([b, a, c], ARM).file == b.filename
    assert decide([c, a], ARM).file == a.filename
    zip_, tgz = F("lib-1.0.zip"), F("lib-1.0.tar.gz")
    assert decide([zip_, tgz], ARM).file == "lib-1.0.tar.gz"
    assert decide([tgz, zip_], ARM).file == "lib-1.0.zip"


def test_other_files_are_ignored() -> None:
    files = [F("lib-1.0-py3.8.egg"), F("lib-1.0.win-amd64.exe"), F("lib-1.0.tar.gz")]
    assert decide(files, ARM).file == "lib-1.0.tar.gz"


def test_reason_names_the_missing_wheel_and_the_sdist() -> None:
    verdict = decide(PSUTIL, ARM)
    assert verdict.reason == (
        "no wheel for manylinux aarch64 on CPython 3.11; pip builds psutil-5.9.8.tar.gz from source "
        "(needs a compiler and Python headers)"
    )
    none = decide(FIL, ARM)
    assert "manylinux x86_64" in none.reason and "macOS x86_64" in none.reason
    assert "No matching distribution" in none.reason


def test_wheel_rank() -> None:
    assert wheel_rank(F(ORJSON[2].filename), ARM) == 36 - 28  # manylinux_2_36 is rank 0
    assert wheel_rank(F(ORJSON[2].filename), ARM_OLD) is None
    assert wheel_rank(F("x-1-py3-none-any.whl"), ARM) == len(ARM.tags()) - 12  # py3-none-any, then py30..py311


@pytest.mark.parametrize(
    ("markers", "target", "expected"),
    [
        (None, ARM, True),
        ("", ARM, True),
        ('sys_platform == "darwin"', ARM, False),
        ('platform_machine == "x86_64"', ARM, False),
        ('platform_machine == "x86_64"', AMD, True),
        ('python_version < "3.10"', AMD_39, True),
        ('python_version < "3.10"', AMD, False),
        ('implementation_name == "cpython" and os_name == "posix"', ARM, True),
        ('extra == "test"', ARM, False),
    ],
)
def test_applies(markers: str | None, target: Target, expected: bool) -> None:
    assert applies(markers, target) is expected


def test_applies_rejects_invalid_markers() -> None:
    with pytest.raises(ValueError, match="invalid environment marker 'python_version <<< 3'"):
        applies("python_version <<< 3", ARM)


def _pkg(**kw: object) -> LockedPackage:
    base = {"name": "psutil", "version": "5.9.8", "lockfile": "requirements.txt", "line": 3}
    base.update(kw)
    return LockedPackage(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("package", "files", "index_error", "status", "reason_part"),
    [
        (_pkg(markers='sys_platform == "win32"'), PSUTIL, None, "n/a", "markers"),
        (_pkg(markers="os_name ==="), PSUTIL, None, "unknown", "requirements.txt:3: invalid environment marker"),
        (
            _pkg(source="vcs", version=None, detail="VCS requirement git+https://git.test/x.git"),
            None,
            None,
            "unknown",
            "VCS requirement git+https://git.test/x.git",
        ),
        (_pkg(source="path", version=None), None, None, "unknown", "local path"),
        (_pkg(source="unpinned", version=None), None, None, "unknown", "no exact version"),
        (_pkg(), None, "HTTP 503 from index.test", "unknown", "HTTP 503 from index.test"),
        (_pkg(), [], None, "unknown", "the index lists no files for psutil==5.9.8"),
        (_pkg(), None, None, "unknown", "the index lists no files for psutil==5.9.8"),
        (_pkg(), PSUTIL, None, "sdist", "pip builds psutil-5.9.8.tar.gz"),
        # the lockfile's own file list takes precedence over the index (and over an index error)
        (_pkg(files=tuple(PSUTIL[:1])), PSUTIL, "HTTP 503", "sdist", "psutil-5.9.8.tar.gz"),
        (_pkg(name="filprofiler", version="2022.5.0", files=tuple(FIL)), PSUTIL, None, "none", "No matching"),
    ],
)
def test_analyse_package(
    package: LockedPackage,
    files: list[DistributionFile] | None,
    index_error: str | None,
    status: str,
    reason_part: str,
) -> None:
    verdict = analyse_package(package, ARM, files=files, index_error=index_error)
    assert verdict.status == status
    assert reason_part in verdict.reason


def test_verdict_checks_its_file() -> None:
    with pytest.raises(ValueError):
        Verdict("wheel", None, "x")
    with pytest.raises(ValueError):
        Verdict("none", "a.whl", "x")


def test_reason_names_the_pythons_that_do_have_wheels():
    from scanners.analyser import decide as _decide
    from scanners.distributions import DistributionFile as _File
    from scanners.targets import Target as _Target

    files = [
        _File("old-1.0-cp39-cp39-manylinux_2_17_aarch64.whl"),
        _File("old-1.0-cp310-cp310-manylinux_2_17_aarch64.whl"),
        _File("old-1.0.tar.gz"),
    ]
    arm = _Target.from_flags("linux/arm64", "3.12", "glibc:2.36")
    sdist = _decide(files, arm)
    assert sdist.status == "sdist"
    assert "its manylinux aarch64 wheels are only for cp39, cp310" in sdist.reason
    none = _decide(files[:2], arm)
    assert none.status == "none"
    assert "only for cp39, cp310" in none.reason
    # A platform with no wheels at all gets no such note.
    assert "only for" not in _decide(files, _Target.from_flags("linux/amd64", "3.12", "glibc:2.36")).reason
