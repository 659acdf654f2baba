"""The installed package's version, without importing the engine (``chokepoint --version``
stays instant)."""

from __future__ import annotations

from importlib import metadata


def package_version() -> str:
    """The installed version of the ``chokepoint`` package, or ``"unknown"``."""
    try:
        return metadata.version("chokepoint")
    except metadata.PackageNotFoundError:
        return "unknown"
