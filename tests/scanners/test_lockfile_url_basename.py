"""A locked file's URL names the file as ``basename(urlsplit(url).path)`` does, by faster means."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

import pytest

from scanners.lockfiles._common import url_basename

URLS = [
    "https://files.index.test/packages/ab/cd/numpy-2.0.0-cp311-cp311-manylinux_2_17_aarch64.whl",
    "https://files.index.test/packages/numpy-2.0.0.tar.gz#sha256=0123abcd",
    "https://files.index.test/packages/numpy-2.0.0.tar.gz?download=1#frag",
    "https://user:secret@mirror.test:8443/simple/../files/MarkupSafe-3.0.2.tar.gz",
    "https://files.index.test/packages/torch-2.5.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
    "https://index.test",
    "https://index.test/",
    "https://index.test?q=/a/b.whl",
    "file:///srv/wheels/six-1.16.0-py2.py3-none-any.whl",
    "file:/srv/wheels/six-1.16.0-py2.py3-none-any.whl",
    "//cdn.index.test/files/six-1.16.0.tar.gz",
    "../files/six-1.16.0.tar.gz",
    "six-1.16.0.tar.gz",
    "",
    "9ab://host/x.whl",  # not a scheme: the whole is a path
    "git+https://github.test/org/repo.git@v1.0",
    "https://host/path/with%20space.whl",
]


@pytest.mark.parametrize("url", URLS)
def test_as_urlsplit_names_it(url):
    assert url_basename(url) == unquote(posixpath.basename(urlsplit(url).path))
