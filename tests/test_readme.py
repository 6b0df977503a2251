"""The README's two newcomer commands stay true: CI runs the test one verbatim, and every command
the README lists exists in the CLI."""

import re
from pathlib import Path

from station.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def code_blocks():
    return re.findall(r"```sh\n(.*?)\n```", README, re.S)


def test_readme_opens_with_demo_then_tests():
    first, second = code_blocks()[:2]
    assert "pip install" in first and first.rstrip().endswith("gym-station demo")
    assert "pip install" in second and "pytest" in second
    # they come before anything else in the README
    assert README.index(first) < README.index("## ")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = code_blocks()[1].strip()
    assert test_command in ci.splitlines()


def test_every_command_the_readme_lists_exists():
    listed = set(re.findall(r"`gym-station (\w+)", README))
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert listed <= set(sub.choices), listed - set(sub.choices)
