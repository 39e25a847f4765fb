"""Shell completion and the man page come from the parser: every option of every command
is in them (a new option cannot be left out), the scripts load in their shells, bash
completes for real, and `man` renders the page."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import run_oomutil

from oomutil.cli.completion import commands


def _every_flag():
    _, globals_, found = commands()
    return {f for o in globals_ for f in o.flags} | {f for *_, options, _ in found for o in options for f in o.flags}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "man"])
def test_every_option_of_every_command_is_in_it(shell):
    out = run_oomutil("completion", shell)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for flag in _every_flag():
        if shell == "fish":  # complete ... -l limit -s n
            wanted = f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
        elif shell == "man":
            wanted = flag.replace("-", "\\-")
        else:
            wanted = flag
        assert wanted in text, (shell, flag)
    for name, *_ in commands()[2]:
        assert name in text


@pytest.mark.parametrize("shell, check", [("bash", ["bash", "-n"]), ("zsh", ["zsh", "-n"]), ("fish", ["fish", "-n"])])
def test_the_script_loads_in_its_shell(shell, check, tmp_path):
    if shutil.which(check[0]) is None:
        pytest.skip(f"{check[0]} is not installed (apt-get install --no-install-recommends {check[0]})")
    script = tmp_path / f"oomutil.{shell}"
    script.write_text(run_oomutil("completion", shell).stdout)
    out = subprocess.run([*check, str(script)], capture_output=True, text=True)
    assert (out.returncode, out.stderr) == (0, "")


@pytest.mark.parametrize("line, expected", [
    ("oomutil to", {"top"}),
    ("oomutil top --so", {"--sort"}),
    ("oomutil top --sort s", {"score", "swap"}),
    ("oomutil events --source ", {"kmsg", "journal"}),
    ("oomutil serve --kernel-log j", {"journal"}),
    ("oomutil completion f", {"fish"}),
])
def test_bash_completes(tmp_path, line, expected):
    script = tmp_path / "oomutil.bash"
    script.write_text(run_oomutil("completion", "bash").stdout)
    words = line.split(" ")
    driver = (f'source {script}; COMP_WORDS=({" ".join(repr(w) for w in words)}); '
              f'COMP_CWORD={len(words) - 1}; _oomutil; printf "%s\\n" "${{COMPREPLY[@]}}"')
    out = subprocess.run(["bash", "-c", driver], capture_output=True, text=True)
    assert set(out.stdout.split()) == expected, out.stderr


def test_man_renders(tmp_path):
    if shutil.which("man") is None or shutil.which("groff") is None:
        pytest.skip("man or groff is not installed (apt-get install --no-install-recommends man-db groff-base)")
    page = tmp_path / "oomutil.1"
    page.write_text(run_oomutil("completion", "man").stdout)
    lint = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True, text=True)
    assert (lint.returncode, lint.stderr) == (0, "")
    shown = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True, env={"MANPAGER": "cat",
                           "PATH": "/usr/bin:/bin", "COLUMNS": "100"})
    assert shown.returncode == 0 and "OOMUTIL(1)" in shown.stdout and "EXIT STATUS" in shown.stdout
