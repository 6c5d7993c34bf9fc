"""A real OpenID provider for the tests: ``oidc-provider`` from the npm registry, run with the
machine's Node on a loopback port (see ``provider.mjs``)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = ROOT / "tests" / "oidc_provider" / "provider.mjs"
PROVIDER_PACKAGE = ROOT / "tools" / "node_modules" / "oidc-provider" / "package.json"
NODE = shutil.which("node")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_ready(process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(line.startswith("READY") for line in log.read_text(encoding="utf-8").splitlines()):
            return
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError("the OpenID provider did not start:\n" + log.read_text(encoding="utf-8"))


def start_provider(port: int, issuer: str, clients: list[dict[str, Any]], log: Path) -> subprocess.Popen[bytes]:
    """Start the provider with these clients and wait until it answers."""
    if NODE is None or not PROVIDER_PACKAGE.exists():
        raise RuntimeError("node and oidc-provider are needed (make installs them into tools/)")
    handle = log.open("wb")
    process = subprocess.Popen(
        [NODE, str(PROVIDER_SCRIPT), str(port), issuer, json.dumps(clients)],
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    handle.close()
    wait_for_ready(process, log)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
