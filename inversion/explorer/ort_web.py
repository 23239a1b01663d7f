"""ONNX Runtime Web, the in-browser runtime the explorer page runs the generator with.

The project does not ship ONNX Runtime Web's files (14 MB of WebAssembly). The first `evaluate.py
explore` takes them from the `onnxruntime-web` npm package at one pinned version: it fetches the
package's tarball with the npm client (`npm pack`, with the user's own registry settings) or reads one
the user passes (for machines without network), checks it against the registry's published sha512,
and keeps the three files the page needs in a cache folder. Every later explorer is written offline
from that cache.

The page must also open from disk (`file://`), where browsers refuse `fetch` and module scripts. So
the runtime's classic script is copied as it is, while its WebAssembly glue module and binary are
wrapped as JavaScript strings the page loads with plain `<script>` tags (see `write_vendor`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from infra.errors import UserError

VERSION = "1.30.0"  # the same version as the pinned Python onnxruntime, which checks the export
# The npm registry's integrity field for that tarball (`npm view onnxruntime-web@1.30.0 dist.integrity`).
INTEGRITY = "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
# The WebAssembly build without WebGPU/WebGL: a classic (non-module) script, its glue module, its binary.
SCRIPT, GLUE, WASM = "ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"
FILES = (SCRIPT, GLUE, WASM)
LICENSE_NOTE = (
    f"ONNX Runtime Web {VERSION} (npm package onnxruntime-web), Copyright (c) Microsoft Corporation, MIT License.\n"
    "Source: https://github.com/microsoft/onnxruntime\n"
    f"{GLUE} and {WASM} are wrapped in JavaScript strings (ort-glue.js, ort-wasm.js) so that the page also\n"
    "works when opened from disk; their contents are unchanged.\n"
)


def cache_dir() -> Path:
    """Where the runtime's files are kept: $LOGIT_INVERSION_CACHE, else $XDG_CACHE_HOME/logit-inversion,
    else ~/.cache/logit-inversion; one folder per version."""
    root = os.environ.get("LOGIT_INVERSION_CACHE")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "logit-inversion"
    return Path(root) / f"onnxruntime-web-{VERSION}"


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def _check_integrity(data: bytes, source: str) -> None:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != INTEGRITY:
        raise UserError(
            f"{source} is not onnxruntime-web {VERSION} as the npm registry publishes it (sha512 differs); "
            f"fetch it again (`npm pack onnxruntime-web@{VERSION}`)"
        )


def _download() -> bytes:
    """The package's tarball through the npm client (`npm pack`), which uses the user's own registry
    settings; the project names no registry host."""
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(
            f"ONNX Runtime Web {VERSION} is not cached and npm is not installed to fetch it: on a machine with npm "
            f"run `npm pack onnxruntime-web@{VERSION}` and pass the file with --ort-web FILE.tgz"
        )
    with tempfile.TemporaryDirectory() as tmp:
        print(f"fetching onnxruntime-web {VERSION} with npm pack (once; kept in {cache_dir()})", file=sys.stderr)
        try:
            done = subprocess.run(
                [npm, "pack", f"onnxruntime-web@{VERSION}", "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.TimeoutExpired as err:
            raise UserError(
                f"npm pack onnxruntime-web@{VERSION} took more than 10 minutes; pass --ort-web FILE.tgz"
            ) from err
        tarballs = list(Path(tmp).glob("onnxruntime-web-*.tgz"))
        if done.returncode != 0 or not tarballs:
            reason = " ".join((done.stderr or done.stdout).split())[-300:]
            raise UserError(
                f"npm pack onnxruntime-web@{VERSION} failed ({reason}); fetch the package on a machine with network "
                f"(`npm pack onnxruntime-web@{VERSION}`) and pass it with --ort-web FILE.tgz"
            )
        return tarballs[0].read_bytes()


def ensure(source: str | Path | None = None, cache: Path | None = None) -> Path:
    """The folder holding the runtime's files, filled on first use. `source`: the package's .tgz or a
    folder with the three files (for machines without network); default: the cache, else the npm registry."""
    cache = Path(cache) if cache else cache_dir()
    if source is not None and Path(source).is_dir():
        if not _complete(Path(source)):
            raise UserError(f"{source} lacks some of ONNX Runtime Web's files {', '.join(FILES)}")
        return Path(source)
    if source is None and _complete(cache):
        return cache
    if source is not None:
        if not Path(source).is_file():
            raise UserError(f"--ort-web {source}: no such file or folder")
        data, origin = Path(source).read_bytes(), str(source)
    else:
        data, origin = _download(), f"onnxruntime-web {VERSION} from npm pack"
    _check_integrity(data, origin)
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in FILES:
            member = tar.extractfile(f"package/dist/{name}")
            if member is None:
                raise UserError(f"{origin} has no package/dist/{name}")
            (tmp / name).write_bytes(member.read())
    (tmp / "NOTICE.txt").write_text(LICENSE_NOTE)
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    return cache


def write_vendor(files: Path, out: Path) -> dict[str, int]:
    """Copy the runtime into `out` in the form a page opened from disk can load; returns the bytes of each file.

    ort.js: the runtime's classic script, unchanged. ort-glue.js: `window.ORT_GLUE`, the glue module's
    source as a string (the page imports it from a blob: URL). ort-wasm.js: `window.ORT_WASM`, the
    binary in base64 (handed to the runtime as `env.wasm.wasmBinary`, so nothing is fetched)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files / SCRIPT, out / "ort.js")
    (out / "ort-glue.js").write_text(f"window.ORT_GLUE = {json.dumps((files / GLUE).read_text())};\n")
    (out / "ort-wasm.js").write_text(f'window.ORT_WASM = "{base64.b64encode((files / WASM).read_bytes()).decode()}";\n')
    (out / "NOTICE.txt").write_text(LICENSE_NOTE)
    return {p.name: p.stat().st_size for p in sorted(out.iterdir())}
