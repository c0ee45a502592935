"""What a registry's answer means for a Dockerfile: the findings for one ``FROM`` image.

Pure: the answer comes in as an :class:`~scanners.registry.manifests.ImagePlatforms`, from the
client or from :func:`~scanners.registry.client.unchecked` when nobody asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from scanners.findings import Finding
from scanners.image_reference import is_scratch
from scanners.registry.manifests import ImagePlatforms, normalise_platform

if TYPE_CHECKING:  # only types: the check hands in parsed Dockerfiles and its targets
    from scanners.dockerfile import ImageContext
    from scanners.targets import Target

__all__ = ["base_image_findings", "dockerfile_base_image_findings"]


def base_image_findings(
    image_platforms: ImagePlatforms, *, path: str, line: int, wanted: str = "linux/arm64"
) -> list[Finding]:
    """Dockerfile findings for one ``FROM`` image.

    * ``base-image-no-arm64`` (blocker): the registry answered and ``wanted`` is not among the
      platforms — an index without it, or a single-platform manifest for another one.
    * ``base-image-unknown`` (info): the registry could not be asked. Never a blocker: an
      offline registry must not fail a scan or hide the package verdicts.
    """
    image = image_platforms.reference
    if is_scratch(image):
        return []  # the empty image exists for every platform; callers normally skip it anyway
    wanted = normalise_platform(wanted)
    if image_platforms.platforms is None:
        reason = image_platforms.error or "no answer"
        return [
            Finding(
                path,
                line,
                "base-image-unknown",
                "info",
                f"Could not check which platforms {image} provides ({reason}); "
                f"whether it exists for {wanted} is unknown.",
            )
        ]
    if wanted in image_platforms.platforms:
        return []
    available = ", ".join(image_platforms.platforms) or "none"
    if len(image_platforms.platforms) <= 1 and not image_platforms.is_index:
        message = (
            f"{image} is a single-platform image for {available}: there is no {wanted} variant, "
            f"so `docker build --platform {wanted}` fails. Use a multi-platform tag or build this image for {wanted}."
        )
    else:
        message = (
            f"{image} is not published for {wanted} (the registry lists: {available}). "
            f"Use a tag or image that includes {wanted}."
        )
    return [
        Finding(
            path,
            line,
            "base-image-no-arm64" if wanted == "linux/arm64" else "base-image-no-platform",
            "blocker",
            message,
        )
    ]


def dockerfile_base_image_findings(
    images: Sequence[ImageContext],
    targets: Sequence[Target],
    image_platforms: Callable[[Sequence[str]], Mapping[str, ImagePlatforms]],
) -> dict[str, tuple[Finding, ...]]:
    """Ask the registries once for every distinct base image, and say which lack a target's platform."""
    wanted = sorted({t.platform for t in targets if t.platform != "linux/amd64"})
    references = sorted({ref for image in images for ref, _line in image.stage_lines})
    if not wanted or not references:
        return {}
    answers = image_platforms(references)
    out: dict[str, list[Finding]] = {}
    for image in images:
        for ref, line in image.stage_lines:
            answer = answers.get(ref)
            if answer is None:
                continue
            for platform in wanted:
                for finding in base_image_findings(answer, path=image.path, line=line, wanted=platform):
                    if finding not in out.setdefault(image.path, []):
                        out[image.path].append(finding)
    return {path: tuple(fs) for path, fs in out.items()}
