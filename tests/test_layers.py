"""The layer contract in pyproject.toml (run by ``make lint``) holds for the tree, and catches an
import that points up the stack."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "monitor", tmp_path / "monitor", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_the_layer_contract(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_from_a_lower_layer_to_a_higher_one_breaks_it(tmp_path: Path) -> None:
    tree = copy_of_the_tree(tmp_path)
    sender = tree / "monitor" / "deliver" / "sender.py"
    sender.write_text(
        sender.read_text() + "\nfrom monitor.store.facade import Store  # noqa: E402\n"
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "monitor.deliver.sender -> monitor.store.facade" in result.stdout
