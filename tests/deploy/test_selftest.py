"""`gym-station check` as the installer's self-test: spike rate, calibration age, touchscreen and
audio output, judged on simulated chips (read by the real reader) and on fixture /proc files."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.clock import VirtualClock
from station import simchips
from station.check import (
    CALIBRATION_MAX_AGE_DAYS,
    Environment,
    find_audio_outputs,
    find_touchscreens,
    run_check,
    scan_environment,
)
from station.config import load_config

# /proc/bus/input/devices on a Pi 4 (64-bit) with the 7" Touch Display (ft5x06), a USB
# keyboard, a single-touch USB panel and a gamepad (absolute X/Y but no touch: not a screen).
DEVICES_64 = """\
I: Bus=0018 Vendor=0000 Product=0000 Version=0000
N: Name="generic ft5x06 (79)"
P: Phys=
S: Sysfs=/devices/platform/rpi_ft5406/input/input0
U: Uniq=
H: Handlers=mouse0 event0
B: PROP=2
B: EV=b
B: KEY=400 0 0 0 0 0
B: ABS=260800000000003

I: Bus=0003 Vendor=04d9 Product=1603 Version=0110
N: Name="  USB Keyboard"
P: Phys=usb-0000:01:00.0-1.3/input0
H: Handlers=sysrq kbd leds event1
B: PROP=0
B: EV=120013
B: KEY=1000000000007 ff800000000007ff febeffdff3cfffff fffffffffffffffe
B: MSC=10
B: LED=7

I: Bus=0003 Vendor=0eef Product=0001 Version=0100
N: Name="eGalax Inc. USB TouchController"
H: Handlers=mouse1 event2
B: PROP=0
B: EV=b
B: KEY=400 0 0 0 0 0
B: ABS=3

I: Bus=0003 Vendor=045e Product=028e Version=0110
N: Name="Microsoft X-Box 360 pad"
H: Handlers=event3 js0
B: PROP=0
B: EV=20000b
B: KEY=7cdb000000000000 0 0 0 0
B: ABS=3003f
"""

# the same touch panel as a 32-bit kernel prints it: one word per 32 bits
DEVICES_32 = """\
N: Name="generic ft5x06 (79)"
B: EV=b
B: KEY=400 0 0 0 0 0 0 0 0 0 0
B: ABS=2608000 3
"""

CARDS = """\
 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
 1 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones
                      bcm2835 Headphones
 2 [Device         ]: USB-Audio - USB PnP Sound Device
                      C-Media Electronics Inc. USB PnP Sound Device at usb-0000:01:00.0-1.4
"""
PCM = """\
00-00: MAI PCM i2s-hifi-0 : MAI PCM i2s-hifi-0 : playback 1
01-00: bcm2835 Headphones : bcm2835 Headphones : playback 8
02-00: USB Audio : USB Audio : capture 1
"""


@pytest.fixture
def virtual(monkeypatch):
    clock = VirtualClock(100.0)
    monkeypatch.setattr(simchips, "clocks", lambda: (clock, clock.sleep))
    return clock


def fake_machine(tmp_path: Path, devices: str = DEVICES_64, cards: str | None = CARDS,
                 pcm: str | None = PCM) -> tuple[Path, Path]:
    proc, dev = tmp_path / "proc", tmp_path / "dev"
    (proc / "bus" / "input").mkdir(parents=True)
    (proc / "bus" / "input" / "devices").write_text(devices)
    if cards is not None:
        (proc / "asound").mkdir()
        (proc / "asound" / "cards").write_text(cards)
        if pcm is not None:
            (proc / "asound" / "pcm").write_text(pcm)
    (dev / "input").mkdir(parents=True)
    return proc, dev


def test_touchscreens_found_by_their_axes(tmp_path):
    proc, _ = fake_machine(tmp_path)
    found = find_touchscreens(proc / "bus/input/devices", tmp_path / "none", word_bits=64)
    assert found == ["generic ft5x06 (79)", "eGalax Inc. USB TouchController"]  # not the pad


def test_touchscreen_bitmaps_of_a_32_bit_kernel(tmp_path):
    f = tmp_path / "devices"
    f.write_text(DEVICES_32)
    assert find_touchscreens(f, tmp_path / "none", word_bits=32) == ["generic ft5x06 (79)"]
    # read as 64-bit words the same text means other bits: no touch axes there
    assert find_touchscreens(f, tmp_path / "none", word_bits=64) == []


def test_touchscreen_by_id_fallback_and_nothing(tmp_path):
    proc, dev = fake_machine(tmp_path, devices=DEVICES_64.split("\n\n")[1])  # keyboard only
    assert find_touchscreens(proc / "bus/input/devices", dev / "input/by-id", 64) == []
    (dev / "input" / "by-id").mkdir()
    (dev / "input" / "by-id" / "usb-ILITEK_Multi-Touch-V5000-event-if00").touch()
    (dev / "input" / "by-id" / "usb-04d9_USB_Keyboard-event-kbd").touch()
    assert find_touchscreens(proc / "bus/input/devices", dev / "input/by-id", 64) == \
        ["usb-ILITEK_Multi-Touch-V5000-event-if00"]


def test_audio_outputs_are_playback_cards_only(tmp_path):
    proc, _ = fake_machine(tmp_path)
    assert find_audio_outputs(proc / "asound") == ["vc4-hdmi-0 (card 0)",
                                                   "bcm2835 Headphones (card 1)"]
    proc2, _ = fake_machine(tmp_path / "b", pcm=None)  # no pcm list: every card counts
    assert len(find_audio_outputs(proc2 / "asound")) == 3
    proc3, _ = fake_machine(tmp_path / "c", cards=None)  # no ALSA at all
    assert find_audio_outputs(proc3 / "asound") == []


def test_scan_environment_combines_both(tmp_path):
    proc, dev = fake_machine(tmp_path)
    env = scan_environment(proc, dev, word_bits=64)
    assert env.touchscreens[0] == "generic ft5x06 (79)"
    assert env.audio_outputs == ("vc4-hdmi-0 (card 0)", "bcm2835 Headphones (card 1)")


def test_report_names_touch_audio_spikes_and_passes(virtual, tmp_path):
    cfg = load_config()
    chips, cal = simchips.simulated_words(cfg)
    env = scan_environment(*fake_machine(tmp_path), word_bits=64)
    with chips:
        report = run_check(chips, cfg.plate.layout, cal, seconds=1.0, environment=env)
    text = report.render()
    assert report.ok and report.warnings == []
    assert "Touchscreen: generic ft5x06 (79), eGalax Inc. USB TouchController" in text
    assert "Audio output: vc4-hdmi-0 (card 0), bcm2835 Headphones (card 1)" in text
    assert report.spikes == 0 and report.spike_rate == 0.0
    assert f"Spikes (words lost to the clock held high > 60 us): 0 of {report.good_reads} " \
           "(0.00 %" in text
    assert "RESULT: OK" in text


def test_spike_rate_counts_the_words_lost(virtual):
    cfg = load_config()
    chips, cal = simchips.simulated_words(cfg)
    with chips:
        for _ in range(2):
            chips.chips[0].stall_next_high(100e-6)  # the reader lost the CPU mid-pulse
            chips.read()
        report = run_check(chips, cfg.plate.layout, cal, seconds=2.0,
                           environment=Environment(("touch",), ("hdmi",)))
    assert report.spikes >= 2
    assert report.spike_rate == pytest.approx(report.spikes / (report.good_reads + report.spikes))
    assert f"{report.spike_rate * 100:.2f} %" in report.render()


def test_missing_touch_audio_and_old_calibration_warn_but_do_not_fail(virtual):
    cfg = load_config()
    chips, cal = simchips.simulated_words(cfg)
    old = (datetime.now(UTC) - timedelta(days=CALIBRATION_MAX_AGE_DAYS + 20)).isoformat()
    cal = dataclasses.replace(cal, calibrated_at=old)
    with chips:
        report = run_check(chips, cfg.plate.layout, cal, seconds=1.0,
                           environment=Environment())
    assert report.ok
    text = report.render()
    assert "Touchscreen: none found" in text and "Audio output: none found" in text
    assert any("no touchscreen found" in w for w in report.warnings)
    assert any("no audio output found" in w for w in report.warnings)
    assert any(f"{CALIBRATION_MAX_AGE_DAYS + 20} days old" in w and "recalibrate" in w
               for w in report.warnings)
    assert text.count("Warning: ") == 3
    assert "RESULT: OK" in text
