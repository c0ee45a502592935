"""Container registries: which platforms a base image provides, and what that means for a Dockerfile.

* :mod:`scanners.image_reference`: the reference grammar (shared with the known-image tables);
* :mod:`.manifests`: reading image indexes, manifest lists and manifests (pure);
* :mod:`.cache`: the cache protocol, an in-memory cache and an on-disk one (the CLI's);
* :mod:`.session`: the requests to one registry (auth challenges, tokens, retries, deadline);
* :mod:`.breaker`: a circuit breaker per registry host, shared through the cache;
* :mod:`.client`: :class:`RegistryClient`, what to ask and what to keep (memo, cache, failures);
* :mod:`.findings`: an answer turned into Dockerfile findings (pure).

Everything callers use is importable from ``scanners.registry`` itself.
"""

from __future__ import annotations

from scanners.image_reference import DOCKER_HUB, DOCKER_HUB_API, ImageRef, parse_reference
from scanners.registry.cache import CachedPlatforms, FileRegistryCache, MemoryRegistryCache, RegistryCache
from scanners.registry.client import RegistryClient, unchecked
from scanners.registry.findings import base_image_findings, dockerfile_base_image_findings
from scanners.registry.manifests import ACCEPT_MANIFESTS, ImagePlatforms, normalise_platform, platforms_from_manifest

__all__ = [
    "ACCEPT_MANIFESTS",
    "CachedPlatforms",
    "DOCKER_HUB",
    "DOCKER_HUB_API",
    "FileRegistryCache",
    "ImagePlatforms",
    "ImageRef",
    "MemoryRegistryCache",
    "RegistryCache",
    "RegistryClient",
    "base_image_findings",
    "dockerfile_base_image_findings",
    "normalise_platform",
    "parse_reference",
    "platforms_from_manifest",
    "unchecked",
]
