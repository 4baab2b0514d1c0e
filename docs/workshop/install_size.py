"""How much a facilitator downloads: the files `uv.lock` names for each system, added up.

    uv run python docs/workshop/install_size.py

For the lean install (`uv sync --no-dev`) and the default one (`uv sync`, or a plain `uv run`,
which adds the dev group: pytest, Playwright, Ray), on Windows x86_64, macOS arm64 and Linux
x86_64 with Python 3.12, it picks the wheel uv would pick for each locked package (or the source
archive when there is none) and adds up the sizes the lock file records. Nothing is downloaded.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from packaging import tags
from packaging.markers import Marker
from packaging.utils import parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
PYTHON = (3, 12)
SYSTEMS = {
    "Windows x86_64": (["win_amd64"], dict(sys_platform="win32", platform_system="Windows",
                                           platform_machine="AMD64", os_name="nt")),
    "macOS arm64": (list(tags.mac_platforms((14, 0), "arm64")), dict(sys_platform="darwin", platform_system="Darwin",
                                                                     platform_machine="arm64", os_name="posix")),
    "Linux x86_64": ([f"manylinux_2_{m}_x86_64" for m in range(36, 4, -1)]
                     + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"],
                     dict(sys_platform="linux", platform_system="Linux", platform_machine="x86_64", os_name="posix")),
}
MARKER_ENV = dict(python_version="3.12", python_full_version="3.12.8", implementation_name="cpython",
                  platform_python_implementation="CPython", platform_release="", platform_version="", extra="")


def locked(*args: str) -> list[tuple[str, str, str]]:
    """(name, version, marker) of every package `uv export` lists for these options."""
    text = subprocess.run(["uv", "export", "--no-hashes", "--no-emit-project", "-q", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    rows = []
    for line in text.splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            requirement, _, marker = line.partition(";")
            name, version = (part.strip() for part in requirement.split("=="))
            rows.append((name.lower().replace("_", "-"), version, marker.strip()))
    return rows


def download(rows, platforms: list[str], env: dict) -> tuple[int, int, list[str]]:
    """(bytes, packages, those installed from a source archive) for one system."""
    lock = {(p["name"], p.get("version")): p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    supported = list(tags.cpython_tags(PYTHON, platforms=platforms)) + list(tags.compatible_tags(PYTHON, "cp312", platforms))
    rank = {tag: i for i, tag in enumerate(supported)}
    total, count, from_source = 0, 0, []
    for name, version, marker in rows:
        if marker and not Marker(marker).evaluate({**MARKER_ENV, **env}):
            continue
        package, count = lock[(name, version)], count + 1
        best = None  # (preference, size) of the most preferred compatible wheel
        for wheel in package.get("wheels", []):
            ranks = [rank[t] for t in parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3] if t in rank]
            if ranks and (best is None or min(ranks) < best[0]):
                best = (min(ranks), wheel["size"])
        if best is None:
            from_source.append(name)
        total += package["sdist"]["size"] if best is None else best[1]
    return total, count, from_source


def main() -> None:
    for label, args in (("lean (uv sync --no-dev)", ["--no-dev"]), ("default (uv sync, uv run)", [])):
        rows = locked(*args)
        for system, (platforms, env) in SYSTEMS.items():
            size, count, from_source = download(rows, platforms, env)
            print(f"{label:27s} {system:15s} {count:4d} packages {size / 1e6:5.0f} MB"
                  f"   from source archives: {', '.join(from_source) or 'none'}")


if __name__ == "__main__":
    main()
