"""A live TDB server for the whole pytest session.

Unless TDB_TEST_URL and TDB_TEST_KEY point at a running server (TDB_TEST_READ_KEY adds a
read-only key), the session starts one with real PostgreSQL through the repo's Node helper
`test/helpers/serve-for-tests.ts`, reads the JSON line it prints and stops it at the end.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 180


@dataclass(frozen=True)
class Live:
    """Where the live server is and the keys the tests use."""

    url: str
    admin_key: str
    read_key: str | None
    other_admin_key: str | None


@pytest.fixture(scope="session")
def live() -> Iterator[Live]:
    url, key = os.environ.get("TDB_TEST_URL"), os.environ.get("TDB_TEST_KEY")
    if url and key:
        yield Live(url, key, os.environ.get("TDB_TEST_READ_KEY"), None)
        return
    tsx = REPO / "node_modules" / ".bin" / "tsx"
    if not tsx.exists():
        pytest.fail(f"{tsx} is missing: run `npm install` (or scripts/setup.sh) first")
    proc = subprocess.Popen(
        [str(tsx), "test/helpers/serve-for-tests.ts"],
        cwd=REPO,
        stdin=subprocess.PIPE,  # the helper exits when this closes, even if we are killed
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(_first_line(proc))
        yield Live(info["url"], info["adminKey"], info["readKey"], info["otherAdminKey"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _first_line(proc: subprocess.Popen[str]) -> str:
    """The helper's JSON line, or a failure that says why (exit or timeout)."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=STARTUP_SECONDS)
    except queue.Empty:
        pytest.fail(f"serve-for-tests printed nothing in {STARTUP_SECONDS}s")
    if not line:
        pytest.fail(f"serve-for-tests exited ({proc.wait()}) before printing its address")
    return line
