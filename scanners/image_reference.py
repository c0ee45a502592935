"""Image references (``[registry/]repository[:tag][@digest]``): docker's grammar and normalisation.

One parser for every place that reads a ``FROM`` line's image: the registry client asks a
registry with it, and the known-image tables (:mod:`scanners.base_images`) look its name up.

Normalisation follows docker's own (``distribution/reference``, ``normalize.go``):
no host means Docker Hub (``docker.io``), one-segment Docker Hub names get the ``library/``
prefix of official images, and the first segment is a host only when it has a ``.`` or ``:``,
is ``localhost``, or has upper-case letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_ALIASES",
    "DOCKER_HUB_API",
    "ImageRef",
    "is_scratch",
    "parse_reference",
    "split_reference",
]

DOCKER_HUB = "docker.io"
"""The registry name references without a host mean."""
DOCKER_HUB_API = "registry-1.docker.io"
"""Where Docker Hub's distribution API lives (``docker.io`` itself only redirects to the web site)."""
DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", DOCKER_HUB_API, "registry.hub.docker.com"})
"""Host names people write for Docker Hub; all of them mean :data:`DOCKER_HUB`."""

# --- reference grammar (distribution/reference/regexp.go) --------------------------------------
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_ANCHORED_HEX = re.compile(r"[a-f0-9]{64}")
_NAME_TOTAL_LENGTH_MAX = 255


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split and normalised the way docker does.

    ``registry`` is the registry's name (``docker.io``, ``ghcr.io``, ``127.0.0.1:5000``);
    ``repository`` the path inside it (``library/python``). ``tag`` is ``"latest"`` when
    neither a tag nor a digest was written, and ``None`` for a bare ``name@digest``.
    """

    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def lookup(self) -> str:
        """What the registry is asked for: the digest when pinned (immutable), else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def key(self) -> tuple[str, str, str]:
        """One request chain per key: different spellings of one image share it."""
        return (self.registry, self.repository, self.lookup)


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``(name, tag, digest)`` as written, nothing checked: the one place that knows where they are.

    The digest follows the first ``@``; the tag is the part after the last ``:`` of the last
    path segment, so a registry port (``registry.test:5000/python:3.12``) is not mistaken for a
    tag. :func:`parse_reference` validates the parts; the known-image tables only need them split.
    """
    name, digest = reference.strip(), None
    if "@" in name:
        name, digest = name.split("@", 1)
    tag = None
    colon, slash = name.rfind(":"), name.rfind("/")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest


def parse_reference(ref: str) -> ImageRef:
    """Normalise an image reference as ``docker pull`` would.

    >>> parse_reference("python:3.12-slim")
    ImageRef(reference='python:3.12-slim', registry='docker.io', repository='library/python', tag='3.12-slim', digest=None)

    :raises ValueError: the reference is not valid; the message quotes it (docker's wording).
    """
    text = ref.strip()
    if not text:
        raise ValueError("invalid reference format: empty image reference")
    if _ANCHORED_HEX.fullmatch(text):
        raise ValueError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    name, tag, digest = split_reference(text)
    if digest is not None:
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"invalid reference format: bad digest in {text!r}")
        if digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
            raise ValueError(
                f"invalid checksum digest length or format in {text!r} (sha256 needs 64 lower-case hex digits)"
            )
    if tag is not None and not _TAG.fullmatch(tag):
        raise ValueError(f"invalid reference format: bad tag {tag!r} in {text!r}")
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        registry, path = DOCKER_HUB, name
    else:
        registry, path = first, rest
        if not _DOMAIN.fullmatch(registry):
            raise ValueError(f"invalid reference format: bad registry host {registry!r} in {text!r}")
    if registry == "index.docker.io":  # docker's legacy default domain
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    if path.lower() != path:
        raise ValueError(f"invalid reference format: repository name ({path}) must be lowercase")
    if not _PATH.fullmatch(path):
        raise ValueError(f"invalid reference format: {text!r}")
    if len(registry) + 1 + len(path) > _NAME_TOTAL_LENGTH_MAX:
        raise ValueError(
            f"invalid reference format: repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters"
        )
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(reference=ref, registry=registry, repository=path, tag=tag, digest=digest)


def is_scratch(reference: str) -> bool:
    """``scratch`` is docker's reserved empty image: no registry serves it, every platform has it."""
    return reference.strip().lower() == "scratch"
