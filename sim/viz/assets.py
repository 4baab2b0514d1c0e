"""The page's front-end files, served from this computer: nothing is fetched at workshop time.

Solara's page loads its JavaScript, CSS and fonts from `<venv>/share/solara/cdn/<package>@<version>/`
through its own `/_solara/cdn/` route, and fetches a missing file from a public CDN on the fly,
which fails with no internet. Everything our page loads is installed by the `solara-assets`
package (locked in uv.lock, so installed with the rest by `uv sync`/`uv run`):

- `@widgetti/solara-vuetify-app@10.1.1` (the Vue 2 app shell: we pin ipyvue<3 and
  ipyvuetify<3; the Vue 3 shell, `@widgetti/solara-vuetify3-app@5.2.0`, about 70 MB unpacked,
  is never requested and so not needed),
- `requirejs@2.3.6` and `font-awesome@4.5.0`.

The widgets' own JavaScript (ipyvue, ipyvuetify, bqplot) is served from the installed Python
packages' nbextensions. The page draws with an SVG template and bqplot, not Vega/Altair, so
vega, vega-lite and vega-embed are not needed either.

`missing()` lists the packages the installed solara version will request that are not in the
folder; `leadsim-viz` checks it before starting and says what to do. While online,
`leadsim-viz --fetch-assets` (or `fetch()`) unpacks missing packages from the npm registry.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


def cdn_dir() -> Path:
    """Where solara looks for its front-end files: `<sys.prefix>/share/solara/cdn`."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def vue3() -> bool:
    import ipyvue

    return ipyvue.__version__.startswith("3")


def required(vue_3: bool | None = None) -> list[str]:
    """`<package>@<version>` of every package the installed solara's page template loads."""
    import solara.server
    from solara.server import settings

    vue_3 = vue3() if vue_3 is None else vue_3
    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2").read_text()
    found = re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d[\w.+-]*)/", template)
    skip = "solara-vuetify-app@" if vue_3 else "solara-vuetify3-app@"
    packages = [p for p in dict.fromkeys(found) if skip not in p]
    if settings.assets.fontawesome_enabled:
        packages.append(settings.assets.fontawesome_path.strip("/").split("/")[0])
    return packages


def missing(folder: Path | None = None, packages: list[str] | None = None) -> list[str]:
    folder = cdn_dir() if folder is None else folder
    packages = required() if packages is None else packages
    return [p for p in packages if not (folder / p).is_dir() or not any((folder / p).iterdir())]


def tarball_url(package: str) -> str:
    name, _, version = package.rpartition("@")
    return f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz"


def unpack(tgz: bytes, target: Path) -> None:
    """Unpack an npm tarball (files under `package/`) into `target`, replacing what is there."""
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) < 2 or ".." in parts or not (member.isfile() or member.isdir()):
                continue
            dest = tmp.joinpath(*parts[1:])
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(target)  # all or nothing: a half-unpacked package never looks present


def fetch(packages: list[str], folder: Path | None = None, log=print) -> None:
    """Download and unpack npm packages into the cdn folder (needs the npm registry)."""
    folder = cdn_dir() if folder is None else folder
    for package in packages:
        url = tarball_url(package)
        log(f"fetching {package} from {url}")
        with urllib.request.urlopen(url, timeout=120) as response:
            unpack(response.read(), folder / package)


def check_or_explain() -> bool:
    """True if every front-end package is installed; otherwise print what to do."""
    absent = missing()
    if not absent:
        return True
    print(f"leadsim-viz: the page's front-end files are missing from {cdn_dir()}:\n  "
          + "\n  ".join(absent)
          + "\nThey come with the `solara-assets` package: reinstall it with "
            "`uv sync --reinstall-package solara-assets`, or, while online, run "
            "`uv run leadsim-viz --fetch-assets` once. Without them the page cannot load offline.",
          file=sys.stderr)
    return False
