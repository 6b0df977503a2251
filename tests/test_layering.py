"""drivers <- station <- display: hardware knows nothing of reps, logic knows nothing of pygame.
Checked on the source, import by import."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path, top_level_only: bool):
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def offenders(package: str, forbidden: set[str], top_level_only: bool = False):
    out = []
    for path in sorted((ROOT / package).glob("*.py")):
        for name, line in imports(path, top_level_only):
            if name in forbidden:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return out


def test_drivers_import_nothing_above_them_and_no_pygame():
    assert offenders("drivers", {"station", "display", "pygame"}) == []


def test_station_never_imports_pygame_or_gpio_libraries():
    assert offenders("station", {"pygame", "lgpio", "RPi", "gpiozero", "hx711"}) == []


def test_station_imports_display_only_lazily():
    # only inside functions (the CLI's run/demo and the bench's child process)
    assert offenders("station", {"display"}, top_level_only=True) == []


def test_display_does_no_signal_work():
    banned = {"station.analysis", "station.reps", "station.signal", "station.cues",
              "station.kiosk", "station.sampler"}
    out = []
    for path in sorted((ROOT / "display").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in banned:
                out.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert out == []
