"""``gym-station``: the one entry point. The only module that wires drivers, station and display.

Exit codes: 0 ok, 1 a failed check or a fault, 2 bad usage or configuration (with a one-line
reason). A person never sees a traceback: every error of the tree becomes one readable line.
``display`` (pygame) is imported only by the commands that show a screen.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

from drivers.errors import GymStationError, RecordingError, ScenarioError

from .config import PLATE_KINDS, describe_options, load_config
from .errors import ConfigError, UsageError
from .paths import output_file, state_dir

log = logging.getLogger("gym-station")

EXIT_OK, EXIT_FAULT, EXIT_USAGE = 0, 1, 2
#: Stopped by SIGTERM, after a clean unwind: 128 + 15, as a shell reports a death by SIGTERM.
#: Not 0: status 0 means the staff left the kiosk, the one exit systemd must not undo, so a
#: stray SIGTERM (not `systemctl stop`) brings the kiosk back. The unit counts 143 a success.
EXIT_TERMINATED = 128 + 15


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"{text} s is outside the range: more than 0 and "
                                         "at most 86400 seconds (a day)")
    return value


def _bench_seconds(text: str) -> float:
    """``bench --seconds``: the bench's own range (its simulated chips and children bound it)."""
    from .bench import SECONDS_MAX, SECONDS_MIN, check_seconds

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    try:
        return check_seconds(value)
    except UsageError:
        raise argparse.ArgumentTypeError(
            f"{text} s is outside {SECONDS_MIN:g}..{SECONDS_MAX:g}") from None


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 800x480") from None
    if not (160 <= w <= 7680 and 160 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"{text} is outside 160x160..7680x4320")
    return w, h


def _gpio(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a BCM GPIO number") from None
    if not 0 <= value <= 27:
        raise argparse.ArgumentTypeError(f"GPIO {value} is outside 0..27")
    return value


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-31") from None


class _Parser(argparse.ArgumentParser):
    """argparse, with its reason always on one line (an argument typed with a line break in it
    would otherwise split "unrecognized arguments: ..." over several). Sub-commands' parsers are
    of this class too (argparse makes them of the parent's class)."""

    def error(self, message: str):
        super().error(" ".join(message.split()) if "\n" in message or "\r" in message
                      else message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="gym-station",
        description="Force-plate kiosk for single-leg hip thrusts: heel vs forefoot drive, rep "
                    "phases, hold time, live cues.")
    p.add_argument("--config", metavar="PATH",
                   help="station.toml to use (default: $GYM_STATION_CONFIG or the shipped one)")
    p.add_argument("--state-dir", metavar="DIR",
                   help="where calibration and the usage log live (default: $GYM_STATION_STATE "
                        "or ~/.local/state/gym-station)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def size_opt(parser):
        parser.add_argument("--size", type=_size, metavar="WxH",
                            help="window/screen size, e.g. 800x480 or 720x1280")

    run = sub.add_parser("run", help="the kiosk on the configured plate (fullscreen)",
                         description="Start the kiosk on the configured plate: fullscreen on "
                                     "KMSDRM or X. The default command on the Pi.")
    run.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    size_opt(run)

    demo = sub.add_parser("demo", help="the kiosk on the simulated plate (a scripted athlete)",
                          description="The kiosk on the simulated plate: a scripted athlete "
                                      "steps on, does a set with a toe-driven rep, a short hold "
                                      "and a rushed lowering, then the other side. Keys take "
                                      "over the athlete: space drives, up/down shift to the "
                                      "toes/heel, s steps on or off, Enter starts/ends a set, "
                                      "Esc goes home.")
    demo.add_argument("--fullscreen", action="store_true", help="fullscreen instead of a window")
    demo.add_argument("--headless", action="store_true",
                      help="no screen: SDL dummy video and disk audio, as fast as possible")
    demo.add_argument("--seconds", type=_seconds, help="stop after this long (demo time)")
    demo.add_argument("--screenshots", metavar="DIR",
                      help="write a PNG of each screen reached to DIR")
    demo.add_argument("--scenario", metavar="NAME",
                      help="scripted athlete (config/scenarios/NAME.toml or a path)")
    size_opt(demo)

    a = sub.add_parser("analyze", help="analyse a recording with the live analysis",
                       description="Run a recording (CSV, see README) through the same streaming "
                                   "analysis and cues as the kiosk: a table, or JSON with "
                                   "--json.")
    a.add_argument("file", type=Path, help="the recording (CSV)")
    a.add_argument("--exercise", metavar="ID",
                   help="exercise profile id (default: the recording's, else the default)")
    a.add_argument("--side", choices=("left", "right", "both"),
                   help="side (default: the recording's, else the exercise's first)")
    a.add_argument("--json", action="store_true", help="JSON on stdout")

    b = sub.add_parser("bench", help="the performance figures on this machine",
                       description="Measure the analysis chain, the HX711 reader against the "
                                   "hx711 PyPI package on identical simulated chips (real time), "
                                   "and the display loop (headless). Figures, never pass/fail.")
    b.add_argument("--json", action="store_true", help="JSON object of named figures on stdout")
    b.add_argument("--no-display", action="store_true", help="skip the display figures")
    b.add_argument("--seconds", type=_bench_seconds, default=3.0,
                   help="real-time seconds per driver and display run, 0.5 to 60 (default 3)")

    c = sub.add_parser("config", help="check the configuration and print what it says",
                       description="Validate station.toml and print the plate it describes.")
    c.add_argument("--keys", action="store_true", help="list every key, its default and limits")

    def plate_opt(parser, default_help="the configured plate"):
        parser.add_argument("--plate", choices=PLATE_KINDS,
                            help=f"plate to use instead of {default_help}")
        parser.add_argument("--recording", metavar="FILE", help="recording for --plate replay")
        parser.add_argument("--scenario", metavar="NAME",
                            help="scripted athlete for --plate simulated (config/scenarios)")

    r = sub.add_parser("record", help="capture the plate to a recording (CSV)",
                       description="Capture samples from a plate to the recording format that "
                                   "`analyze` and the replay plate read.")
    r.add_argument("file", type=Path, help="CSV file to write")
    r.add_argument("--seconds", type=_seconds, default=30.0, help="how long (default 30)")
    r.add_argument("--fast", action="store_true",
                   help="simulated/replayed plates: run as fast as possible, not in real time")
    r.add_argument("--exercise", default="", help="exercise id to note in the file")
    r.add_argument("--side", choices=("left", "right"), help="side to note in the file")
    plate_opt(r)

    k = sub.add_parser("check", help="hardware self-test of the plate's HX711 chips",
                       description="Read the plate's chips for a few seconds and report rate, "
                                   "noise, spikes and faults per chip. Exit 1 on a fault.")
    k.add_argument("--seconds", type=_seconds, default=3.0, help="how long to read (default 3)")
    k.add_argument("--simulated", action="store_true",
                   help="check simulated HX711 chips (read by the real reader) instead of the "
                        "hardware")
    k.add_argument("--silent-chip", type=_gpio, metavar="GPIO", action="append", default=[],
                   help="with --simulated: make the chip on this DOUT GPIO silent")

    cal = sub.add_parser("calibrate", help="calibrate the plate with a known mass",
                         description="Walk through taring the empty plate and putting a known "
                                     "mass on each area of it; saves the calibration with its "
                                     "date in the state directory.")
    cal.add_argument("--mass", type=float, required=True, metavar="KG",
                     help="the known mass you will put on the plate, in kg (e.g. 20)")

    sub.add_parser("tare", help="re-zero the empty plate",
                   description="Average the empty plate's readings into a new zero. Refused "
                               "while someone stands on the plate or it moves.")

    u = sub.add_parser("usage", help="who used the station, how much and how well",
                       description="Sessions, minutes on the plate, reps, good-rep rate, mean "
                                   "heel share and hold, per station, athlete, exercise or day, "
                                   "from this station's usage log (the state directory), or "
                                   "with --facility from the facility's PostgreSQL "
                                   "(storage.postgres_url).")
    u.add_argument("--since", type=_date, metavar="DATE", help="first day (YYYY-MM-DD)")
    u.add_argument("--until", type=_date, metavar="DATE", help="last day, included")
    u.add_argument("--by", choices=("station", "athlete", "exercise", "day"), default="station",
                   help="one row per station (default), athlete, exercise or day")
    u.add_argument("--csv", type=Path, metavar="FILE", help="also write the rows to a CSV file")
    u.add_argument("--facility", action="store_true",
                   help="every station of the facility, from storage.postgres_url")

    ath = sub.add_parser("athlete", help="an athlete's data out of the usage log, or gone",
                         description="Export everything the station's usage log holds about an "
                                     "athlete, or delete it (logged as an event without the "
                                     "athlete's id or name; the facility's copy follows at the "
                                     "next push).")
    actions = ath.add_subparsers(dest="action", metavar="ACTION", required=True)
    ex = actions.add_parser("export", help="JSON (default) or CSV of one athlete's data",
                            description="Write one athlete's sessions, sets, reps and cues.")
    ex.add_argument("id", help="the athlete's roster id")
    ex.add_argument("--format", choices=("json", "csv"), default="json",
                    help="json (everything) or csv (one line per rep)")
    ex.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
    de = actions.add_parser("delete", help="remove one athlete's data",
                            description="Remove the athlete and all their sessions, sets, reps "
                                        "and cues from this station's log.")
    de.add_argument("id", help="the athlete's roster id")

    pin = sub.add_parser("pin", help="set the coach or staff PIN",
                         description="Set the PIN that opens coach or staff mode on the "
                                     "touchscreen: 4 to 8 digits, typed twice, stored only as a "
                                     "salted hash in the state directory.")
    pin_actions = pin.add_subparsers(dest="action", metavar="ACTION", required=True)
    ps = pin_actions.add_parser("set", help="set (or replace) a role's PIN",
                                description="Ask for the new PIN twice (not echoed) and store it.")
    ps.add_argument("role", choices=("coach", "staff"), help="whose PIN")
    pst = pin_actions.add_parser("status", help="whether the PINs are set (exit 1: one is not)",
                                 description="Say which roles have a PIN; the exit status is 1 "
                                             "when one asked for has none (for scripts).")
    pst.add_argument("role", nargs="?", choices=("coach", "staff"), help="just this role")

    ros = sub.add_parser("roster", help="the athlete roster: import, export, list",
                         description="The athletes who can pick themselves (or badge in) on the "
                                     "ready screen, kept in the state directory.")
    ros_actions = ros.add_subparsers(dest="action", metavar="ACTION", required=True)
    ri = ros_actions.add_parser("import", help="read a roster CSV (all of it, or nothing)",
                                description="Read a CSV with columns id, name, badge (and "
                                            "optionally program: a program id this station "
                                            "has). A bad row refuses the whole file with its "
                                            "line and the reason. A running kiosk reads the new "
                                            "roster within a second; the import is noted in "
                                            "the usage log.")
    ri.add_argument("file", type=Path, help="the CSV (UTF-8, a byte-order mark is fine; cells "
                                            "separated by commas or semicolons)")
    ri.add_argument("--merge", action="store_true",
                    help="add and update athletes, keep the others (default: the file becomes "
                         "the whole roster)")
    ri.add_argument("--allow-empty", action="store_true",
                    help="let a file with no athletes empty the roster (refused without it)")
    re_ = ros_actions.add_parser("export", help="write the roster as CSV",
                                 description="Write the roster as CSV (cells a spreadsheet "
                                             "would run as formulas are escaped).")
    re_.add_argument("file", type=Path, help="CSV file to write")
    ros_actions.add_parser("list", help="print the roster",
                           description="Print every athlete: id, name, badge, program.")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error argparse already explained (2)
        return EXIT_OK if not e.code else EXIT_USAGE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # gpiozero warns once per pin library it could not load; the reader's own error says it all
    warnings.filterwarnings("ignore", message="Falling back from")
    if not args.command:
        parser.print_help()
        print("gym-station: no command given: choose one of the commands above",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, UsageError, RecordingError, ScenarioError) as e:
        print(f"gym-station {args.command}: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except GymStationError as e:
        print(f"gym-station {args.command}: {_one_line(e)}", file=sys.stderr)
        return EXIT_FAULT
    except BrokenPipeError:  # `gym-station analyze ... | head`: the reader left, not an error
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"gym-station {args.command}: stopped", file=sys.stderr)
        return 130
    except OSError as e:  # a disk or device problem the tree did not name
        print(f"gym-station {args.command}: {_one_line(e)}", file=sys.stderr)
        return EXIT_FAULT


def _one_line(error: BaseException) -> str:
    """An error's message on one line: a path or value typed with a line break in it shows
    as ``\\n``, so the reason stays one line."""
    return str(error).replace("\r", "\\r").replace("\n", "\\n")


# -- commands -------------------------------------------------------------------------------

def _stop_on_sigterm() -> None:
    """systemd stops the kiosk with SIGTERM: unwind like Ctrl-C, so the display quits, the usage
    log flushes and the sampler process is stopped, instead of dying mid-write; then exit
    :data:`EXIT_TERMINATED` (not 0, which would tell systemd the staff left the kiosk)."""
    import signal

    def stop(signum, frame):
        raise SystemExit(EXIT_TERMINATED)

    signal.signal(signal.SIGTERM, stop)


def cmd_demo(args) -> int:
    import time

    from .kiosk_run import demo_session, run_session

    t_start = time.perf_counter()
    _stop_on_sigterm()
    if args.headless and args.seconds is None:
        raise UsageError("--headless needs --seconds N (there is no window to close)")
    if args.screenshots is not None and not args.headless:
        raise UsageError("--screenshots needs --headless")
    if args.screenshots is not None:
        _screenshot_folder(args.screenshots)
    cfg = load_config(args.config)
    state = state_dir(args.state_dir)
    session = demo_session(cfg, headless=args.headless, scenario=args.scenario)
    stats, figures = run_session(session, cfg, state, fullscreen=args.fullscreen,
                                 headless=args.headless, seconds=args.seconds,
                                 screenshots=args.screenshots, size=args.size, t_start=t_start)
    print(f"demo: {stats.frames} frames ({stats.dropped} dropped), screens: "
          f"{stats.screen_path()}")
    if stats.screenshots:
        print(f"screenshots: {len(stats.screenshots)} in {args.screenshots}")
    return EXIT_OK


def _screenshot_folder(text: str) -> None:
    """Make ``--screenshots DIR`` before the demo starts, so a folder that cannot be made or
    written is a usage error naming it (exit 2), not a fault once the kiosk has started."""
    import os

    if not text.strip():
        raise UsageError("--screenshots needs the name of a folder to write the PNGs to")
    path = Path(text)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"--screenshots {text}: is a file, not a folder") from None
    except OSError as e:
        raise UsageError(f"--screenshots {text}: cannot make this folder "
                         f"({e.strerror or e}); choose another") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--screenshots {text}: the folder is not writable; choose another")


def cmd_run(args) -> int:
    import time

    from .kiosk_run import run_session, station_session
    from .logsetup import configure_logging
    from .systemd import Watchdog, notify_stopping

    t_start = time.perf_counter()
    _stop_on_sigterm()
    cfg = load_config(args.config)
    # key=value lines on stderr, which journald keeps (with priorities) under the service
    configure_logging("debug" if args.verbose else cfg.station.log_level)
    state = state_dir(args.state_dir)
    session = station_session(cfg, state)
    # READY=1 once the first frame is on screen; WATCHDOG=1 only while the sampler loops (its
    # heartbeat may lag up to the 2 s between attempts to open a plate that is not there yet)
    watchdog = Watchdog(lambda: session.sampler.heartbeat_fresh(3.0))
    try:
        # not closable: a close request from the windowing system is ignored (see run_kiosk)
        stats, _ = run_session(session, cfg, state,
                               fullscreen=cfg.display.fullscreen and not args.windowed,
                               size=args.size, t_start=t_start, on_frame=watchdog.on_frame,
                               closable=False)
    finally:
        notify_stopping()
        watchdog.close()
    # 0 tells systemd the staff left the kiosk (the unit then leaves it stopped): only their
    # PIN-guarded Leave kiosk may say so. A loop that ended any other way is a fault: the unit
    # starts the kiosk again.
    if stats.ended == "exit requested":
        return EXIT_OK
    print(f"gym-station run: the kiosk stopped ({stats.ended}) without the staff leaving it; "
          "exit 1 so systemd starts it again", file=sys.stderr)
    return EXIT_FAULT


def cmd_analyze(args) -> int:
    import json

    from .analyze import analyze_recording
    from .kiosk_run import profiles_for

    cfg = load_config(args.config)
    result = analyze_recording(args.file, profiles_for(cfg), exercise=args.exercise,
                               side=args.side)
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        print()
    else:
        print(result.table())
    return EXIT_OK


def cmd_bench(args) -> int:
    import json

    from .bench import render, run_bench

    figures = run_bench(display=not args.no_display, driver_seconds=args.seconds,
                        display_seconds=args.seconds)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
    else:
        print(render(figures))
    return EXIT_OK


def cmd_config(args) -> int:
    if args.keys:
        print(describe_options())
        return EXIT_OK
    cfg = load_config(args.config)
    layout = cfg.plate.layout
    print(f"{cfg.path}: OK")
    print(f"station {cfg.station.id!r}, plate {cfg.plate.kind}, {len(layout.cells)} cells, "
          f"gain {layout.gain}, {layout.rate_hz:g} SPS")
    for cell in layout.cells:
        edge = f" {cell.edge}" if cell.edge else ""
        print(f"  {cell.name:<12} {cell.zone}{edge:<7} DOUT GPIO {cell.data_pin:<3} "
              f"PD_SCK GPIO {cell.clock_pin}")
    return EXIT_OK


def cmd_record(args) -> int:
    from drivers.recording import RecordingWriter

    from .plates import open_plate
    from .record import record

    cfg = load_config(args.config)
    state = state_dir(args.state_dir)
    output_file(args.file, "the recording")
    plate = open_plate(cfg, state, kind=args.plate, realtime=not args.fast,
                       scenario=args.scenario, recording=args.recording)
    meta = {"station": cfg.station.id, "rate_hz": f"{plate.rate_hz:g}"}
    if args.exercise:
        meta["exercise"] = args.exercise
    if args.side:
        meta["side"] = args.side
    with plate:
        result = record(plate, RecordingWriter, args.file, meta, seconds=args.seconds,
                        timeout=cfg.plate.read_timeout_s)
    print(result.summary())
    if result.error:
        print(f"gym-station record: {result.error}", file=sys.stderr)
        return EXIT_FAULT
    return EXIT_OK


def cmd_check(args) -> int:
    from .check import run_check
    from .plates import load_calibration, open_words

    cfg = load_config(args.config)
    state = state_dir(args.state_dir)
    layout = cfg.plate.layout
    if args.silent_chip and not args.simulated:
        raise UsageError("--silent-chip only applies to --simulated chips")
    if args.simulated:
        from .simchips import simulated_words

        unknown = set(args.silent_chip) - set(layout.data_pins)
        if unknown:
            raise UsageError(f"--silent-chip {sorted(unknown)}: no cell has that DOUT GPIO "
                             f"(cells: {list(layout.data_pins)})")
        words, calibration = simulated_words(cfg, silent=args.silent_chip)
    else:
        if cfg.plate.kind not in ("hx711", "hx711-pypi"):
            raise UsageError(f"the configured plate is {cfg.plate.kind!r}: it has no chips to "
                             "check; use --simulated to check simulated chips")
        calibration = load_calibration(state, layout)
        words = open_words(cfg)
    with words:
        report = run_check(words, layout, calibration, seconds=args.seconds,
                           timeout=cfg.plate.read_timeout_s)
    print(report.render())
    return EXIT_OK if report.ok else EXIT_FAULT


def _hardware_plate(args):
    """The configured HX711 plate with its stored calibration (None if never calibrated)."""
    from .plates import hardware_plate

    cfg = load_config(args.config)
    if cfg.plate.kind not in ("hx711", "hx711-pypi"):
        raise UsageError(f"the configured plate is {cfg.plate.kind!r}: only an HX711 plate can "
                         "be calibrated or tared")
    state = state_dir(args.state_dir)
    return cfg, state, hardware_plate(cfg, state)


def cmd_calibrate(args) -> int:
    from .calibration_walk import walk_calibration
    from .paths import calibration_file

    if not 0.5 <= args.mass <= 500:
        raise UsageError(f"--mass {args.mass:g} kg: use a known mass from 0.5 to 500 kg")
    cfg, state, plate = _hardware_plate(args)
    with plate:
        walk_calibration(plate, cfg.plate.layout, args.mass, calibration_file(state))
    _log_event(state, cfg, "calibration", {"mass_kg": args.mass})
    return EXIT_OK


def cmd_tare(args) -> int:
    from .calibration_walk import tare
    from .paths import calibration_file

    cfg, state, plate = _hardware_plate(args)
    with plate:
        tare(plate, calibration_file(state))
    _log_event(state, cfg, "tare", {})
    return EXIT_OK


def _log_event(state, cfg, kind: str, detail: dict) -> None:
    """Note a calibration or tare in the usage log; a log that cannot be written is only warned
    about (the calibration itself is saved)."""
    import sqlite3
    import time

    from .usage_report import record_event

    try:
        record_event(state, cfg.station.id, kind, detail, time.time)
    except (sqlite3.Error, OSError) as e:
        log.warning("usage log: could not note the %s (%s)", kind, e)


def cmd_usage(args) -> int:
    import time

    from .usage_report import (
        facility_source,
        local_source,
        record_event,
        render_table,
        usage_csv,
        usage_rows,
    )

    cfg = load_config(args.config)
    if args.since and args.until and args.since > args.until:
        raise UsageError(f"--since {args.since} is after --until {args.until}")
    if args.facility:
        source = facility_source(cfg.storage.postgres_url)
    else:
        source = local_source(state_dir(args.state_dir))
    if args.csv:
        output_file(args.csv, "the CSV")
    with source:
        rows = usage_rows(source, since=args.since, until=args.until, by=args.by)
    print(f"usage from {source.name}")
    print(render_table(rows, args.by))
    if args.csv:
        usage_csv(rows, args.csv, args.by)
        print(f"wrote {len(rows)} rows to {args.csv}")
        if not args.facility:
            record_event(state_dir(args.state_dir), cfg.station.id, "export",
                         {"what": "usage", "by": args.by, "rows": len(rows)}, time.time)
    return EXIT_OK


def cmd_athlete(args) -> int:
    import json
    import time

    from .usage_report import athlete_csv, athlete_data, delete_athlete, record_event

    cfg = load_config(args.config)
    state = state_dir(args.state_dir)
    if args.action == "delete":
        counts = delete_athlete(state, args.id, cfg.station.id, time.time,
                                facility=bool(cfg.storage.postgres_url))
        print(f"deleted athlete {args.id}: {counts['sessions']} sessions, {counts['reps']} reps, "
              f"{counts['sets']} sets, {counts['cues']} cues")
        if cfg.storage.postgres_url:
            print("the facility's copy is deleted at the station's next push")
        return EXIT_OK
    if args.out:
        output_file(args.out, "the export")
    data = athlete_data(state, args.id)
    if args.format == "json":
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        if args.out:
            args.out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    else:
        text = athlete_csv(data, args.out)
        if not args.out:
            sys.stdout.write(text)
    record_event(state, cfg.station.id, "export",
                 {"what": "athlete", "format": args.format,
                  "sessions": len(data["sessions"])}, time.time)
    if args.out:
        print(f"wrote {len(data['sessions'])} sessions to {args.out}")
    return EXIT_OK


def cmd_pin(args) -> int:
    import getpass

    from .errors import PinError
    from .pins import PinStore

    state = state_dir(args.state_dir)
    if args.action == "status":
        store = PinStore(state, damaged_ok=True)
        if store.damaged:
            print(f"{store.damaged}", file=sys.stderr)
            return EXIT_FAULT
        roles = [args.role] if args.role else ["coach", "staff"]
        for role in roles:
            print(f"{role} PIN: {'set' if store.is_set(role) else 'not set'}")
        return EXIT_OK if all(store.is_set(r) for r in roles) else EXIT_FAULT
    try:
        store = PinStore(state, damaged_ok=True)
        if store.damaged:
            print(f"warning: {store.damaged.split(':')[0]} was damaged; it is written afresh, so "
                  "the other role's PIN must be set again too", file=sys.stderr)
        try:
            first = getpass.getpass(f"new {args.role} PIN (4 to 8 digits): ")
            again = getpass.getpass(f"the {args.role} PIN again: ")
        except EOFError:  # Ctrl-D, or no terminal and nothing on stdin
            raise UsageError("no PIN was typed: nothing changed") from None
        if first != again:
            raise UsageError("the two PINs differ: nothing changed, run it again")
        replaced = store.is_set(args.role)
        store.set_pin(args.role, first)
    except PinError as e:
        raise UsageError(str(e)) from None
    print(f"{args.role} PIN {'replaced' if replaced else 'set'} in {store.path}")
    return EXIT_OK


def cmd_roster(args) -> int:
    from .errors import RosterError
    from .roster import Roster

    state = state_dir(args.state_dir)
    try:
        if args.action == "import":
            return _roster_import(args, state)
        roster = Roster.load(state)
        if args.action == "export":
            roster.export_csv(output_file(args.file, "the CSV"))
            print(f"wrote {len(roster)} athletes to {args.file}")
            _log_event(state, load_config(args.config), "export",
                       {"what": "roster", "rows": len(roster)})
        elif not len(roster):
            print("the roster is empty: add athletes with `gym-station roster import FILE`")
        else:
            print(f"{'id':<16} {'name':<40} {'badge':<20} program")
            for e in roster:
                print(f"{e.id:<16} {e.name:<40} {e.badge or '-':<20} {e.program or '-'}")
    except RosterError as e:
        raise UsageError(str(e)) from None
    return EXIT_OK


def _roster_import(args, state: Path) -> int:
    """`roster import`: the whole file or nothing; a damaged roster.json is replaced (kept
    aside) only by a whole roster, never merged into; noted in the usage log."""
    from .errors import ProgramError, RosterError
    from .programs import ProgramBook
    from .roster import Roster, roster_file

    cfg = load_config(args.config)  # a bad configuration refuses before anything changes
    mode = "merge" if args.merge else "replace"
    damaged = None
    try:
        roster = Roster.load(state)
    except RosterError as e:
        if args.merge:
            raise RosterError(f"{e}; it cannot be merged into: import the whole roster "
                              "without --merge") from None
        roster, damaged = Roster(roster_file(state)), e
    try:
        programs = {p.id for p, _why in ProgramBook.load(state).stored()}
    except ProgramError as e:
        programs = None
        print(f"warning: {e}; the program column is not checked", file=sys.stderr)
    count = roster.import_csv(args.file, mode, programs=programs, allow_empty=args.allow_empty)
    if damaged is not None:
        kept = roster.set_aside()
        print(f"warning: {str(damaged).partition(': restore it')[0]}; it is kept as {kept}",
              file=sys.stderr)
    roster.save()
    print(f"imported {count} athletes from {args.file} ({mode}); the roster has "
          f"{len(roster)}")
    _log_event(state, cfg, "import", {"what": "roster", "who": "console", "mode": mode,
                                      "rows": count, "athletes": len(roster)})
    return EXIT_OK


COMMANDS = {
    "bench": cmd_bench,
    "analyze": cmd_analyze,
    "run": cmd_run,
    "demo": cmd_demo,
    "calibrate": cmd_calibrate,
    "tare": cmd_tare,
    "config": cmd_config,
    "record": cmd_record,
    "check": cmd_check,
    "usage": cmd_usage,
    "athlete": cmd_athlete,
    "pin": cmd_pin,
    "roster": cmd_roster,
}

__all__ = ["main", "build_parser"]

if __name__ == "__main__":
    sys.exit(main())
