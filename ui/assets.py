"""Serve the page's JS and CSS from this machine, so the game works with no internet access.

Solara's page loads its front end (the Vue/Vuetify app, RequireJS, Font Awesome) through its
own server, at ``/_solara/cdn/<npm package>@<version>/...``; the server answers from a cache
directory and, for anything missing, fetches from a public CDN. No ``solara-assets`` package
matches solara 1.64, so :func:`ensure_assets` fills that cache once from the npm registry with
``npm pack`` (the ordinary client), after which the page needs no outside request at all.
``chokepoint play`` calls it; ``python -m ui.assets`` does it alone (CI does this).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: The npm packages solara 1.64's page loads through the CDN proxy (ipyvuetify < 2): its page
#: template, and what every ``solara.Markdown`` imports when it mounts (mermaid, then KaTeX).
PACKAGES = (
    ("@widgetti/solara-vuetify-app", "10.1.1"),
    ("requirejs", "2.3.6"),
    ("font-awesome", "4.5.0"),
    ("mermaid", "10.8.0"),
    ("katex", "0.16.9"),
)
#: A file of each package that the page requests, to tell whether the package is in place.
MARKERS = {
    "@widgetti/solara-vuetify-app": "dist/solara-vuetify-app8.min.js",
    "requirejs": "require.js",
    "font-awesome": "css/font-awesome.min.css",
    "mermaid": "dist/mermaid.min.js",
    "katex": "dist/contrib/auto-render.min.js",
}


def cache_dir() -> Path:
    """Where solara's server looks for proxied assets."""
    from solara.server.settings import assets

    return Path(assets.proxy_cache_dir)


def missing(base: Path | None = None) -> list[tuple[str, str]]:
    """Packages not yet in the cache."""
    base = cache_dir() if base is None else base
    return [(n, v) for n, v in PACKAGES if not (base / f"{n}@{v}" / MARKERS[n]).is_file()]


def ensure_assets(base: Path | None = None, quiet: bool = False) -> list[str]:
    """Fetch every missing package from the npm registry into the cache.

    Returns the problems (empty when every asset is in place).
    """
    base = cache_dir() if base is None else base
    todo = missing(base)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        return [f"npm not found: cannot fetch {', '.join(n for n, _ in todo)} for offline use"]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, version in todo:
            spec = f"{name}@{version}"
            if not quiet:
                print(f"fetching {spec} from the npm registry for offline use", file=sys.stderr)
            done = subprocess.run(
                [npm, "pack", spec, "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                check=False,
            )
            tarballs = [line for line in done.stdout.split() if line.endswith(".tgz")]
            if done.returncode != 0 or not tarballs:
                problems.append(f"npm pack {spec} failed: {done.stderr.strip()[:200]}")
                continue
            target = base / spec
            staging = Path(tmp) / "unpacked"
            shutil.rmtree(staging, ignore_errors=True)
            with tarfile.open(Path(tmp) / tarballs[-1]) as tar:
                tar.extractall(staging, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(staging / "package", target)
    return problems


def main() -> int:
    problems = ensure_assets()
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"page assets in place in {cache_dir()}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
