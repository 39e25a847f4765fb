"""The package type-checks: it ships py.typed, so its annotations are part of the API."""

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "oomutil"


def test_mypy_is_clean():
    out = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", str(SRC)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
