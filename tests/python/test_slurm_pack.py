"""Packed slurm:// from Python: the pack tasks run the `fz` command pip
installed with the module, found without FZ_WORKER even when the
environment's scripts directory is not in PATH (a venv used without
activating it). Needs the test SLURM cluster (FZ_TEST_SLURM)."""

import json
import os
import subprocess
import sys
import sysconfig

from conftest import require_service

SCRIPT = r"""
import fz
rows = fz.fzr(
    "input.txt",
    {"x": list(range(12))},
    {"varprefix": "$", "delim": "{}", "output": {"r": "grep result output.txt | cut -d= -f2"}},
    calculators=["slurm://:debug/bash calc.sh?array=1&pack=5"] * 2,
    results_dir="results",
)
print(rows[["x", "r", "status"]].to_json(orient="records"))
"""


def test_pack_tasks_find_the_pip_installed_fz_without_fz_worker(tmp_path):
    require_service("FZ_TEST_SLURM", "the test SLURM cluster")
    scripts = sysconfig.get_path("scripts")
    assert os.path.isfile(os.path.join(scripts, "fz")), "pip installs the fz command"
    (tmp_path / "input.txt").write_text("x=${x}\n")
    (tmp_path / "calc.sh").write_text(
        'x=$(cut -d= -f2 "$1")\necho "result = $x" > output.txt\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FZ_WORKER", "VIRTUAL_ENV")}
    # The scripts directory (and any other fz) out of PATH.
    env["PATH"] = os.pathsep.join(
        d for d in env.get("PATH", "").split(os.pathsep)
        if d and not os.path.isfile(os.path.join(d, "fz"))
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(r["x"], r["r"], r["status"]) for r in rows] == [
        (x, x, "done") for x in range(12)
    ]
