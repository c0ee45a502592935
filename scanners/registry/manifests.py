"""Manifest documents: which platforms an image index, manifest list or single manifest names.

The OCI distribution API (``GET /v2/<name>/manifests/<tag-or-digest>``) answers one of:

* an **image index** (OCI) or **manifest list** (Docker) lists one manifest per platform; its
  ``platform`` objects are the answer. BuildKit adds attestation manifests with the platform
  ``unknown/unknown``: they are not images and are skipped.
* a **single manifest** is one platform; which one is written only in its config blob
  (``GET /v2/<name>/blobs/<config digest>``), so that costs a second request.

Everything here is pure: :mod:`scanners.registry.client` fetches the documents and hands them in.
:class:`ImagePlatforms` is the answer for one reference, whoever produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCEPT_MANIFESTS",
    "ImagePlatforms",
    "normalise_platform",
    "platform_from_config",
    "platforms_from_manifest",
]

_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_MANIFEST_V1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
_IMAGE_CONFIGS = ("application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json")

ACCEPT_MANIFESTS = ", ".join([_OCI_INDEX, _DOCKER_LIST, _OCI_MANIFEST, _DOCKER_MANIFEST])
"""Indexes first: without them in ``Accept`` some registries answer with one platform's manifest."""

# containerd's platform normalisation (platforms/database.go): architecture aliases and the
# default variants that are dropped, so "arm64/v8" and "aarch64" are both "arm64".
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
}
_DEFAULT_VARIANTS = {"arm64": "v8", "amd64": "v1"}


@dataclass(frozen=True, slots=True)
class ImagePlatforms:
    """What a registry said about one image reference.

    ``platforms`` are normalised ``os/architecture[/variant]`` strings in the registry's order
    (``linux/arm64``, never ``linux/arm64/v8``), ``None`` when unknown; then ``error`` says why
    in one line. ``media_type`` is the manifest type answered (index or single manifest), which
    tells a single-platform image from a one-entry index. ``from_cache`` is true when no
    request was needed (or the registry only confirmed the cached digest).
    """

    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    platforms: tuple[str, ...] | None
    resolved_digest: str | None
    error: str | None
    media_type: str | None = None
    from_cache: bool = False

    @property
    def is_index(self) -> bool:
        return self.media_type in (_OCI_INDEX, _DOCKER_LIST)

    def provides(self, wanted: str) -> bool | None:
        """``True``/``False`` whether ``wanted`` (``linux/arm64``) is among the platforms; ``None`` if unknown."""
        if self.platforms is None:
            return None
        return normalise_platform(wanted) in self.platforms


def normalise_platform(platform: str) -> str:
    """``linux/aarch64`` and ``linux/arm64/v8`` -> ``linux/arm64``; ``linux/armhf`` -> ``linux/arm/v7``."""
    parts = platform.strip().lower().split("/")
    os_name = parts[0] if parts else ""
    arch = parts[1] if len(parts) > 1 else ""
    variant = parts[2] if len(parts) > 2 else ""
    return _platform(os_name, arch, variant)


def _platform(os_name: str, arch: str, variant: str) -> str:
    os_name, arch, variant = os_name.lower(), arch.lower(), variant.lower()
    if arch in _ARCH_ALIASES:
        arch, alias_variant = _ARCH_ALIASES[arch]
        variant = variant or alias_variant
    if variant and _DEFAULT_VARIANTS.get(arch) == variant:
        variant = ""
    return "/".join(part for part in (os_name, arch, variant) if part)


def platforms_from_manifest(document: Mapping[str, Any], media_type: str) -> tuple[tuple[str, ...] | None, str | None]:
    """Platforms listed by an image index / manifest list: ``(platforms, None)``.

    For a single manifest, returns ``(None, config digest)``: the platform is in the config
    blob, which the caller fetches and reads with :func:`platform_from_config`.

    :raises ValueError: the document is neither, or is malformed; the message names the key.
    """
    if not isinstance(document, Mapping):
        raise ValueError("manifest is not a JSON object")
    media_type = (document.get("mediaType") or media_type or "").split(";")[0].strip()
    if media_type in (_OCI_INDEX, _DOCKER_LIST) or (not media_type and "manifests" in document):
        entries = document.get("manifests")
        if not isinstance(entries, list):
            raise ValueError("image index has no manifests list")
        found: list[str] = []
        for position, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise ValueError(f"manifests[{position}] is not an object")
            platform = entry.get("platform")
            if not isinstance(platform, Mapping):
                continue  # e.g. an artifact in the index; not an image anyone can run
            os_name, arch = str(platform.get("os", "")), str(platform.get("architecture", ""))
            if not os_name or not arch or "unknown" in (os_name, arch):
                continue  # BuildKit attestation manifests (provenance, SBOM) are "unknown/unknown"
            value = _platform(os_name, arch, str(platform.get("variant", "") or ""))
            if value not in found:
                found.append(value)
        return tuple(found), None
    if document.get("schemaVersion") == 1 or media_type in _DOCKER_MANIFEST_V1:
        inline = document.get("architecture")  # schema 1 carries its one architecture inline
        if not isinstance(inline, str) or not inline:
            raise ValueError("schema 1 manifest has no architecture")
        return (_platform("linux", inline, ""),), None
    if media_type in (_OCI_MANIFEST, _DOCKER_MANIFEST) or (not media_type and "config" in document):
        config = document.get("config")
        if not isinstance(config, Mapping) or not isinstance(config.get("digest"), str):
            raise ValueError("manifest has no config.digest")
        config_type = config.get("mediaType")
        if config_type not in _IMAGE_CONFIGS:
            raise ValueError(f"not a container image (config media type {config_type!r})")
        return None, config["digest"]
    raise ValueError(f"unexpected manifest media type {media_type or 'none'!r}")


def platform_from_config(document: Mapping[str, Any]) -> str:
    if not isinstance(document, Mapping):
        raise ValueError("image config is not a JSON object")
    os_name, arch = document.get("os"), document.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        raise ValueError("image config has no os/architecture")
    return _platform(os_name, arch, str(document.get("variant", "") or ""))
