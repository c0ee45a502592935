"""Arch Readiness scanning engine: a plain Python library (no Django, no database).

Data flow: ``git`` fetches a repository's lockfiles and Dockerfiles, ``lockfiles`` and
``dockerfile`` parse them, ``targets`` turns an image into pip's ordered tag list, ``index``
fetches release files, ``analyser`` decides a verdict per (package, target) and ``advice``
finds the fix version. ``check`` ties them together for one repository.
"""

ANALYSER_VERSION = "2"
"""Bumped whenever a change could alter a verdict, so stored results know they are stale."""
