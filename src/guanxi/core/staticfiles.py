"""Serve JavaScript that ships inside installed wheels as our own static files (no CDN).

``vendor/plotly.min.js`` is the plotly.js bundled in the ``plotly`` Python wheel. htmx needs no
entry here: django-htmx ships it as the static file ``django_htmx/htmx-2.min.js``.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage


def _vendored() -> dict[str, Path]:
    import plotly

    return {"vendor/plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js"}


class VendorFinder(BaseFinder):
    """A staticfiles finder for the files of ``_vendored()``; ``collectstatic`` copies them too."""

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        source = _vendored().get(path)
        if source is None or not source.exists():
            # Not None: staticfiles.finders.find() would collect it as a match, and the static
            # file view then fails with a 500 instead of a 404.
            return []
        return [str(source)] if find_all else str(source)

    def list(self, ignore_patterns):
        for name, source in _vendored().items():
            storage = FileSystemStorage(location=str(source.parent))
            storage.prefix = str(Path(name).parent)  # collectstatic stores it under this prefix
            yield source.name, storage
