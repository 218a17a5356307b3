"""Copy the JavaScript the built book needs into a git-ignored folder, so no page uses a CDN.

* ``plotly.min.js`` from the installed plotly package (the book renderer of
  ``anatomy_lib.viz.book`` emits figures without it);
* MathJax 3 (``es5/``) from npm ``mathjax@MATHJAX_VERSION`` via ``npm pack`` (skipped
  with ``--no-mathjax``; needs the npm registry once, then the folder is reused).

Usage: ``python scripts/vendor_book_assets.py [--dest book/_vendor]``. The folder is
listed in ``_config.yml`` (``html_static_path``, ``html_js_files``, ``mathjax_path``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
ROOT = Path(__file__).resolve().parents[1]


def vendor_plotly(dest: Path) -> Path:
    """Copy ``plotly.min.js`` of the installed plotly package into ``dest``."""
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not src.is_file():
        raise FileNotFoundError(f"plotly.min.js not found in the plotly package at {src}")
    out = dest / "plotly.min.js"
    shutil.copyfile(src, out)
    (dest / "plotly.version").write_text(plotly.__version__ + "\n")
    return out


def vendor_mathjax(dest: Path, version: str = MATHJAX_VERSION) -> Path:
    """Unpack MathJax's ``es5/`` folder from ``npm pack mathjax@version`` into ``dest/mathjax``."""
    out = dest / "mathjax"
    stamp = out / "VERSION"
    if stamp.is_file() and stamp.read_text().strip() == version:
        return out
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch mathjax (or run with --no-mathjax)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"mathjax@{version}", "--silent"], cwd=tmp, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        tarball = next(Path(tmp).glob("mathjax-*.tgz"))
        with tarfile.open(tarball) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/es5/")]
            tar.extractall(tmp, members=members, filter="data")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(Path(tmp) / "package" / "es5", out)
    stamp.write_text(version + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "book" / "_vendor")
    parser.add_argument("--no-mathjax", action="store_true", help="only copy plotly.min.js")
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    print(f"vendored {vendor_plotly(args.dest)}")
    if not args.no_mathjax:
        print(f"vendored {vendor_mathjax(args.dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
