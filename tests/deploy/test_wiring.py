"""deploy/WIRING.md agrees with the shipped configuration and with the Pi's header."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from station.config import load_config, parse_config

REPO = Path(__file__).resolve().parents[2]
WIRING = (REPO / "deploy" / "WIRING.md").read_text()
#: BCM GPIO -> physical pin on the 40-pin header (Raspberry Pi pinout, all models since B+).
HEADER = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27, 5: 29, 6: 31,
          13: 33, 19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26,
          1: 28, 12: 32, 16: 36, 20: 38, 21: 40}
GROUND_PINS = {6, 9, 14, 20, 25, 30, 34, 39}


def table(heading: str) -> list[list[str]]:
    """The rows of the first markdown table after ``heading``, cells stripped."""
    section = WIRING.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    return [r for r in rows[2:]]  # skip header and --- row


def gpio_rows(rows):
    """(signal, gpio, header pin) for rows whose GPIO column is a number."""
    out = []
    for signal, _board, gpio, pin in rows:
        if gpio.isdigit():
            out.append((signal, int(gpio), int(pin)))
    return out


def test_two_cell_table_matches_the_shipped_config():
    layout = load_config(REPO / "config" / "station.toml").plate.layout
    rows = gpio_rows(table("### 2-cell plate"))
    by_signal = {s: g for s, g, _ in rows}
    clocks = {c.clock_pin for c in layout.cells}
    assert clocks == {by_signal["PD_SCK, all boards (shared)"]} == {5}
    data = {c.zone: c.data_pin for c in layout.cells}
    assert data == {"heel": by_signal["DOUT, heel board"],
                    "forefoot": by_signal["DOUT, forefoot board"]} == {"heel": 6, "forefoot": 13}
    for _signal, gpio, pin in rows:
        assert HEADER[gpio] == pin


def test_four_cell_table_and_its_toml_agree_and_validate():
    rows = gpio_rows(table("### 4-cell plate"))
    for _signal, gpio, pin in rows:
        assert HEADER[gpio] == pin
    snippet = re.search(r"```toml\n(.*?)```", WIRING, re.S).group(1)
    cfg = parse_config(tomllib.loads(snippet), "WIRING.md")
    cells = cfg.plate.layout.cells
    assert len(cells) == 4 and cfg.plate.layout.four_cell
    assert {c.clock_pin for c in cells} == {5}
    expected = {("heel", "left"): 6, ("forefoot", "left"): 13, ("heel", "right"): 19,
                ("forefoot", "right"): 26}
    assert {(c.zone, c.edge): c.data_pin for c in cells} == expected
    table_pins = {s.replace("DOUT, ", ""): g for s, g, _ in rows if s.startswith("DOUT")}
    assert table_pins == {f"{z} {e}": p for (z, e), p in expected.items()}
    assert cfg.plate.layout.rate_hz == 80


def test_supply_is_3v3_and_grounds_are_grounds():
    for heading in ("### 2-cell plate", "### 4-cell plate"):
        rows = {r[0]: r for r in table(heading)}
        supply = rows["supply, all boards"]
        assert supply[2] == "3.3 V" and supply[3].startswith(("1", "17"))
        ground_pins = {int(p) for p in re.findall(r"\d+", rows["ground, all boards"][3])}
        assert ground_pins <= GROUND_PINS
    assert "not 5 V" in WIRING or "NOT use 5 V" in WIRING


def test_diagram_names_every_pin_and_wire_colour():
    diagram = WIRING.split("## Diagram", 1)[1].split("Where the cells sit", 1)[0]
    for gpio in (5, 6, 13, 19, 26):
        assert f"GPIO {gpio}" in diagram
        assert f"pin {HEADER[gpio]}" in diagram
    for colour in ("red", "blk", "wht", "grn"):
        assert colour in diagram
    colours = {r[0]: r[2] for r in table("## Load-cell wires")}
    assert colours["red"] == "E+" and colours["black"] == "E-"
    assert colours["white"] == "A-" and colours["green"] == "A+"
    assert "verify" in WIRING.split("## Load-cell wires", 1)[1][:200].lower()
    assert "RATE" in WIRING and "80" in WIRING.split("## RATE pin", 1)[1]


def test_readme_summary_agrees():
    readme = (REPO / "README.md").read_text()
    for gpio, pin in ((5, 29), (6, 31), (13, 33)):
        assert re.search(rf"\|\s*{gpio}\s*\|\s*{pin}\s*\|", readme), (gpio, pin)
