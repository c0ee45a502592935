"""Ways out of a blocker, in order of preference.

For every (package, target) that is not ``wheel`` the advice is, best first:

0. ``relock``: the index has, for the *locked* version, a wheel the lock's hashes or file list
   leave out (uploaded after the lock was made): refreshing the lock fixes it with no version
   change, the cheapest fix there is (:func:`relock_advice`).
1. ``upgrade``: the fix version: the lowest release above the locked one
   whose verdict is ``wheel`` on every target of the repo where the package is installed
   (Requires-Python honoured by :func:`scanners.analyser.decide`). Pre-releases are only
   considered when the locked version is itself a pre-release, and releases whose files are
   all yanked are never suggested (pip would skip them for anything but an exact pin).
2. ``build`` (the image installs a compiler: slower builds, no blocker) or ``build-deps`` (what
   to add to the image: the distribution's toolchain, Python headers and the libraries from
   :mod:`scanners.build_deps`), for ``sdist`` verdicts.
3. ``replace``: a known replacement from :mod:`scanners.replacements`.
4. ``change-image``: a musl-only gap (the same release has a manylinux wheel): the glibc
   variant of the same base image.
5. ``upstream``: no release of the package has a wheel for the target; the issue to file is
   drafted by :mod:`scanners.upstream_issue`.

Everything here is pure: project files, targets and the image context come in as arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from packaging.version import InvalidVersion, Version

from scanners.analyser import Verdict, decide
from scanners.build_deps import build_packages
from scanners.distributions import DistributionFile, ProjectFiles
from scanners.replacements import replacements_for
from scanners.targets import Target
from scanners.upstream_issue import missing_platform_tags

if TYPE_CHECKING:  # only types: advice parses neither Dockerfiles nor lockfiles
    from scanners.dockerfile import ImageContext
    from scanners.lockfiles.base import LockedPackage

__all__ = [
    "Advice",
    "AdviceKind",
    "advise",
    "fix_version",
    "glibc_variant",
    "relock_advice",
    "relock_command",
    "upgrade_advice",
]

AdviceKind = Literal[
    "relock", "upgrade-parent", "upgrade", "build", "build-deps", "replace", "change-image", "upstream"
]


@dataclass(frozen=True, slots=True)
class Advice:
    """One way out for one package, with the targets it helps.

    ``fix_version`` is set for ``upgrade``; ``major_jump`` says the upgrade crosses a major
    version (no release of the locked major series would do). ``packages`` lists system
    packages for ``build-deps``, ``replacement`` the requirement for ``replace``, ``image`` the
    suggested base image for ``change-image``, ``platform_tags`` the missing wheel tags for
    ``upstream``. ``source`` names the table row a ``build-deps``/``replace`` advice comes from.
    For ``relock``: ``file`` is the wheel the lock leaves out, ``uploaded_at`` its upload time,
    ``locked_at`` when the lockfile last changed (both when known), ``command`` the tool's command
    that refreshes the lock without changing versions.
    """

    kind: AdviceKind
    title: str
    detail: str
    targets: tuple[str, ...] = ()
    fix_version: str | None = None
    major_jump: bool = False
    packages: tuple[str, ...] = ()
    replacement: str | None = None
    image: str | None = None
    platform_tags: tuple[str, ...] = ()
    source: str = ""
    file: str | None = None
    uploaded_at: dt.datetime | None = None
    locked_at: dt.datetime | None = None
    command: str | None = None


# --------------------------------------------------------------------------- 0. re-lock


def relock_command(lock_format: str, generated_by: str | None, *, name: str, hashed: bool) -> str:
    """The command that refreshes a lock's files or hashes without moving versions.

    Where the file's header records the command that wrote it, that command is repeated, with
    what it needs to fetch fresh hashes: pip-compile reuses the hashes already in its output
    file unless told ``--no-reuse-hashes``.
    """
    command = generated_by or ""
    if lock_format == "requirements":
        if command.startswith("pip-compile"):
            if hashed and "--generate-hashes" not in command:
                command += " --generate-hashes"
            return command if "--no-reuse-hashes" in command else f"{command} --no-reuse-hashes"
        if command.startswith("uv pip compile"):
            return command
        if command.startswith("uv export"):
            return f"uv lock --upgrade-package {name} && {command}"
        return "pip-compile --generate-hashes --no-reuse-hashes (or uv pip compile --generate-hashes)"
    if lock_format == "Pipfile.lock":
        return "pipenv lock"
    if lock_format == "pdm.lock":
        return "pdm lock --refresh"
    if lock_format == "poetry.lock":
        return "poetry lock --no-update" if command == "poetry 1.x" else "poetry lock --regenerate"
    if lock_format == "uv.lock":
        return f"uv lock --upgrade-package {name}"
    if lock_format == "pylock.toml":
        if command.startswith("uv export"):
            return f"uv lock --upgrade-package {name} && {command}"
        return (
            "pip lock writes only the files of the machine it runs on: run it on every target (for "
            "linux/arm64, in an arm64 container), or write the lock with uv export --format pylock.toml"
        )
    return "re-create the lockfile with the tool that wrote it"


def relock_advice(
    package: LockedPackage,
    verdicts: Mapping[str, Verdict],
    targets: Sequence[Target],
    release: Sequence[DistributionFile],
    *,
    lock_format: str,
    generated_by: str | None = None,
    locked_at: dt.datetime | None = None,
) -> Advice | None:
    """``relock`` when the index's ``release`` (the locked version's files as the index lists
    them now) has a wheel for a target the lock leaves its install without (``sdist``/``none``).

    The lock allows ``package.files`` when it lists them, else the index files whose sha256 is in
    ``package.hashes``. The status stays what the installer does; this only says how cheap the
    fix is.
    """
    if package.version is None or not release:
        return None
    if package.files is not None:
        allowed = {f.filename for f in package.files}
    elif package.hashes is not None:
        allowed = {f.filename for f in release if f.sha256 in package.hashes}
    else:
        return None
    helped: list[tuple[Target, DistributionFile]] = []
    by_name = {f.filename: f for f in release}
    for target in targets:
        verdict = verdicts.get(target.id)
        if verdict is None or verdict.status not in ("sdist", "none"):
            continue
        free = decide(release, target)
        if free.status == "wheel" and free.file is not None and free.file not in allowed:
            helped.append((target, by_name[free.file]))
    if not helped:
        return None
    ids = tuple(t.id for t, _f in helped)
    # The wheel to name: a foreign target's (the reason this product exists), else the first.
    wheel = next((f for t, f in helped if t.platform != "linux/amd64"), helped[0][1])
    files = ", ".join(dict.fromkeys(f.filename for _t, f in helped))
    when = []
    if wheel.upload_time:
        when.append(f"uploaded {_day(wheel.upload_time)}")
    if locked_at and wheel.upload_time and wheel.upload_time > locked_at:
        when.append(f"after {package.lockfile} last changed on {_day(locked_at)}")
    elif locked_at:
        when.append(f"{package.lockfile} last changed {_day(locked_at)}")
    command = relock_command(lock_format, generated_by, name=package.name, hashed=package.hashes is not None)
    leaves = "the lock's hashes leave it out" if package.files is None else "the lock's file list leaves it out"
    detail = (
        f"{files}{' (' + ', '.join(when) + ')' if when else ''} is on the index for the locked "
        f"{package.name} {package.version}, but {leaves}. "
        f"Refresh the lock without changing versions: {command}"
    )
    return Advice(
        "relock",
        f"re-lock: {package.version} has a wheel for {', '.join(ids)} now",
        detail,
        targets=ids,
        file=wheel.filename,
        uploaded_at=wheel.upload_time,
        locked_at=locked_at,
        command=command,
    )


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- 1. upgrade


def _candidates(project: ProjectFiles, locked: Version):
    for version in project.versions():
        if version <= locked or (version.is_prerelease and not locked.is_prerelease):
            continue
        files = project.release(version)
        if all(f.is_yanked for f in files):
            continue
        yield version, files


InstallableCheck = Callable[[Sequence[DistributionFile]], bool]
"""``ok(chosen wheels)``: whether pip would accept a release whose chosen wheels these are (their
metadata, see :mod:`scanners.core_metadata`); without one, every release with wheels is accepted."""


def fix_version(
    project: ProjectFiles,
    locked_version: str,
    targets: Sequence[Target],
    *,
    installable: InstallableCheck | None = None,
) -> str | None:
    """The lowest release newer than ``locked_version`` with a wheel on every one of ``targets``.

    ``targets`` should already exclude the targets where the package's markers do not apply.
    Returns ``None`` when no such release exists (the way out is then upstream, or a replacement).
    ``installable`` rules out releases pip would ignore anyway (celery 5.0 to 5.2.6 declare
    ``pytz (>dev)``, which pip 24.1+ refuses).
    """
    key = ("fix", locked_version, tuple(targets), installable is not None)
    known: tuple[str | None, tuple[tuple[Sequence[DistributionFile], bool], ...]] | None
    known = project.answers.get(key)  # type: ignore[assignment]
    if known is not None:
        # The checks the answer rests on are asked again (core metadata comes from its cache): the
        # scan's record of the metadata it read stays whole, and an answer that rested on a read
        # that has changed since (a failure then, an answer now) is worked out anew.
        if installable is None or all(installable(wheels) == ok for wheels, ok in known[1]):
            return known[0]
    asked: list[tuple[Sequence[DistributionFile], bool]] = []
    check: InstallableCheck | None = None
    if installable is not None:

        def check(wheels: Sequence[DistributionFile]) -> bool:
            ok = installable(wheels)
            asked.append((wheels, ok))
            return ok

    answer = _fix_version(project, locked_version, targets, check)
    project.answers[key] = (answer, tuple(asked))
    return answer


def _fix_version(
    project: ProjectFiles, locked_version: str, targets: Sequence[Target], installable: InstallableCheck | None
) -> str | None:
    try:
        locked = Version(locked_version)
    except InvalidVersion:
        return None
    if not targets:
        return None
    for version, files in _candidates(project, locked):
        verdicts = [decide(files, target) for target in targets]
        if all(v.status == "wheel" for v in verdicts):
            if installable is not None:
                chosen = {v.file for v in verdicts}
                if not installable([f for f in files if f.filename in chosen]):
                    continue
            return str(version)
    return None


def upgrade_advice(
    project: ProjectFiles,
    locked_version: str,
    targets: Sequence[Target],
    *,
    installable: InstallableCheck | None = None,
) -> Advice | None:
    """:func:`fix_version` as advice, saying whether it is a major-version jump.

    The fix version is the *lowest* release that works, so when it crosses a major version no
    release of the locked series would do; the detail says so, because a major upgrade is a
    project of its own and a manager needs to know before assigning it.
    """
    fix = fix_version(project, locked_version, targets, installable=installable)
    if fix is None:
        return None
    locked, new = Version(locked_version), Version(fix)
    jump = new.major > locked.major
    ids = tuple(t.id for t in targets)
    if jump:
        detail = (
            f"{fix} is the first release with a wheel on {', '.join(ids)}; it is a major-version jump "
            f"from {locked_version}: no {locked.major}.x release has one, so expect API changes"
        )
    else:
        detail = f"{fix} is the first release with a wheel on {', '.join(ids)}, in the same {locked.major}.x series"
    return Advice(
        "upgrade",
        f"upgrade to {fix}" + (" (major version)" if jump else ""),
        detail,
        targets=ids,
        fix_version=fix,
        major_jump=jump,
    )


# --------------------------------------------------------------------------- 4. image


_PYTHON_ALPINE = re.compile(r"^(?P<repo>(?:.+/)?python):(?P<ver>[\w.]*?)-?alpine[\d.]*$")
_ALPINE = re.compile(r"^(?P<repo>(?:.+/)?alpine)(?::[\w.]+)?$")


def glibc_variant(base_image: str | None) -> str | None:
    """The glibc image closest to a musl one: ``python:3.12-alpine3.20`` -> ``python:3.12-slim``.

    ``alpine:3.20`` becomes ``debian:bookworm-slim`` (its Python then comes from apt); any
    other image gives ``None`` (we do not guess).
    """
    if not base_image:
        return None
    ref = base_image.split("@", 1)[0]
    m = _PYTHON_ALPINE.match(ref)
    if m:
        version = m.group("ver").rstrip("-")
        return f"{m.group('repo')}:{version + '-' if version else ''}slim"
    if _ALPINE.match(ref):
        return "debian:bookworm-slim"
    return None


def _glibc_twin(target: Target) -> Target:
    return Target(
        platform=target.platform,
        python=target.python,
        libc="glibc",
        libc_version="2.36",
        origin=target.origin,
        id=target.id,
    )


# --------------------------------------------------------------------------- 5. upstream


def _no_release_has_wheel(project: ProjectFiles | None, target: Target) -> bool:
    if project is None:
        return True
    key = ("no-wheel", target)
    if key not in project.answers:
        project.answers[key] = not any(decide(project.release(v), target).status == "wheel" for v in project.versions())
    return project.answers[key]  # type: ignore[return-value]


# --------------------------------------------------------------------------- all advice


def advise(
    project: ProjectFiles | None,
    *,
    name: str,
    version: str,
    verdicts: Mapping[str, Verdict],
    targets: Sequence[Target],
    image: ImageContext | None = None,
    installable: InstallableCheck | None = None,
) -> tuple[Advice, ...]:
    """Every way out for one locked package, best first; empty when it is ``wheel`` everywhere.

    ``verdicts`` are by target id; targets whose verdict is ``n/a`` are ignored. ``project`` is
    the index's full file list (``None`` when the index had no answer: only advice that needs
    no release list is given). ``image`` is the repo's primary image context; ``installable``
    is passed to :func:`fix_version`.
    """
    applicable = [t for t in targets if t.id in verdicts and verdicts[t.id].status != "n/a"]
    failing = [t for t in applicable if verdicts[t.id].status in ("sdist", "none")]
    if not failing:
        return ()
    out: list[Advice] = []
    if project is not None:
        upgrade = upgrade_advice(project, version, applicable, installable=installable)
        if upgrade is not None:
            out.append(upgrade)

    sdist = [t for t in failing if verdicts[t.id].status == "sdist"]
    if sdist:
        ids = tuple(t.id for t in sdist)
        if image is not None and image.installs_compiler:
            out.append(
                Advice(
                    "build",
                    "builds from source",
                    f"{image.path} installs a compiler, so pip builds "
                    f"{name} from its sdist on {', '.join(ids)}: slower builds, but not a blocker",
                    targets=ids,
                )
            )
        else:
            manager = "apk" if any(t.libc == "musl" for t in sdist) else "apt"
            packages, deps = build_packages(name, package_manager=manager)
            command = "apk add --no-cache" if manager == "apk" else "apt-get install -y --no-install-recommends"
            extra = f"; it also needs {deps.note}" if deps is not None and deps.note else ""
            where = image.path if image is not None else "the image"
            out.append(
                Advice(
                    "build-deps",
                    f"add {' '.join(packages)} to the image",
                    f"{where} has no C compiler, so building {name} from source fails; add "
                    f"`{command} {' '.join(packages)}` before the pip install{extra}",
                    targets=ids,
                    packages=packages,
                    source=deps.source if deps else "",
                )
            )

    for r in replacements_for(name):
        out.append(
            Advice(
                "replace",
                f"replace with {r.replacement}",
                r.why,
                targets=tuple(t.id for t in failing),
                replacement=r.replacement,
                source=r.source,
            )
        )

    musl = [t for t in failing if t.libc == "musl"]
    if musl and project is not None:
        files = project.release(version)
        glibc_ok = [t for t in musl if decide(files, _glibc_twin(t)).status == "wheel"]
        if glibc_ok:
            base = image.base_image if image is not None else None
            variant = glibc_variant(base)
            ids = tuple(t.id for t in glibc_ok)
            title = f"change the image to {variant}" if variant else "change the image to a glibc one"
            out.append(
                Advice(
                    "change-image",
                    title,
                    f"{name}=={version} has manylinux wheels but no musllinux wheel for {', '.join(ids)}: "
                    f"a glibc base image{f' ({variant} instead of {base})' if variant else ''} installs it from a wheel",
                    targets=ids,
                    image=variant,
                )
            )

    upstream = [t for t in failing if _no_release_has_wheel(project, t)]
    if upstream:
        tags = missing_platform_tags(upstream)
        out.append(
            Advice(
                "upstream",
                f"ask upstream for {', '.join(tags)} wheels",
                f"no release of {name} has a wheel for {', '.join(t.describe() for t in upstream)}",
                targets=tuple(t.id for t in upstream),
                platform_tags=tags,
            )
        )
    return tuple(out)
