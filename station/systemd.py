"""Talking to systemd: ``sd_notify`` readiness, status and the watchdog, without libsystemd.

The unit (``deploy/gym-station.service``) is ``Type=notify`` with ``WatchdogSec``. systemd hands
the service an AF_UNIX datagram socket in ``$NOTIFY_SOCKET`` (a path, or an abstract name written
with a leading ``@``) and the watchdog period in ``$WATCHDOG_USEC``. The station says ``READY=1``
once its first frame is on screen, so "started" means the athlete can see the kiosk, and sends
``WATCHDOG=1`` only while the sampler's heartbeat is fresh: a hung sampler (or a hung display
loop, which stops calling :meth:`Watchdog.on_frame`) lets the watchdog fire and systemd restarts
the station. Outside systemd (no ``$NOTIFY_SOCKET``) every call here is a no-op.

Only the main process notifies (``NotifyAccess=main``): the sampler process never talks to
systemd; its health reaches the watchdog through the heartbeat.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

#: STATUS= texts are shown by ``systemctl status``; keep them to one short line.
STATUS_MAX = 200


def notify_address(env: Mapping[str, str] | None = None) -> str | bytes | None:
    """The socket address in ``$NOTIFY_SOCKET`` as ``socket.sendto`` wants it, or ``None``.

    ``/run/systemd/notify`` is a filesystem socket; ``@name`` is Linux's abstract namespace (a
    leading NUL byte). Anything else (unset, empty, ``vsock:``) is not a socket this process can
    reach, and notifying is skipped.
    """
    env = os.environ if env is None else env
    addr = env.get("NOTIFY_SOCKET", "")
    if addr.startswith("/"):
        return addr
    if addr.startswith("@") and len(addr) > 1:
        return b"\0" + addr[1:].encode()
    if addr:
        log.warning("NOTIFY_SOCKET=%r is not a path or an abstract socket: not notifying systemd",
                    addr)
    return None


def watchdog_interval(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog period in seconds from ``$WATCHDOG_USEC``, or ``None`` when there is none.

    As ``sd_watchdog_enabled`` does, a ``$WATCHDOG_PID`` naming another process means the
    watchdog is not this process's to feed. A malformed value is logged and treated as none.
    """
    env = os.environ if env is None else env
    raw = env.get("WATCHDOG_USEC")
    if not raw:
        return None
    owner = env.get("WATCHDOG_PID")
    if owner:
        try:
            if int(owner) != (os.getpid() if pid is None else pid):
                return None
        except ValueError:
            log.warning("WATCHDOG_PID=%r is not a process id: ignoring the watchdog", owner)
            return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a whole number of microseconds: ignoring the "
                    "watchdog", raw)
        return None
    if usec <= 0:
        log.warning("WATCHDOG_USEC=%r is not positive: ignoring the watchdog", raw)
        return None
    return usec / 1_000_000


class Notifier:
    """One datagram socket to ``$NOTIFY_SOCKET``; every ``send`` is a no-op when there is none.

    A send that fails (systemd gone, socket removed) is logged once and reported as ``False``:
    the kiosk must never stop because systemd could not be told something.
    """

    def __init__(self, address: str | bytes | None = None, *,
                 env: Mapping[str, str] | None = None):
        self.address = address if address is not None else notify_address(env)
        self._sock: socket.socket | None = None
        self._warned = False
        self.sent: int = 0

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` assignments in one datagram; True if it was delivered."""
        if self.address is None:
            return False
        for a in assignments:
            if "=" not in a or "\n" in a:
                raise ValueError(f"sd_notify assignment must be one KEY=value line, not {a!r}")
        data = "\n".join(assignments).encode("utf-8")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(data, self.address)
        except OSError as e:
            if not self._warned:
                log.warning("could not notify systemd at %r (%s): the watchdog may restart the "
                            "station", self.address, e)
                self._warned = True
            return False
        self.sent += 1
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([status_line(status)] if status else []))

    def status(self, text: str) -> bool:
        return self.send(status_line(text))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *([status_line(status)] if status else []))

    def close(self) -> None:
        """Close the socket; safe twice."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def status_line(text: str) -> str:
    """``STATUS=text`` on one line, shortened to :data:`STATUS_MAX` characters."""
    one = " ".join(str(text).split())
    if len(one) > STATUS_MAX:
        one = one[:STATUS_MAX - 3] + "..."
    return f"STATUS={one}"


def notify_ready(status: str = "kiosk on screen", *, env: Mapping[str, str] | None = None) -> bool:
    """Tell systemd the station is up (``READY=1``); a no-op outside systemd."""
    with Notifier(env=env) as n:
        return n.ready(status)


def notify_stopping(status: str = "stopping", *, env: Mapping[str, str] | None = None) -> bool:
    """Tell systemd the station is shutting down on purpose (``STOPPING=1``)."""
    with Notifier(env=env) as n:
        return n.stopping(status)


class Watchdog:
    """Feeds the systemd watchdog from the kiosk's frame loop, only while the sampler lives.

    Pass ``on_frame`` as ``run_kiosk(on_frame=...)``: it runs right after each flip. The first
    call says ``READY=1`` (the first frame is on screen). After that, each call sends
    ``WATCHDOG=1`` if half the watchdog period has passed since the last one *and*
    ``heartbeat()`` (``Sampler.heartbeat_fresh``) is true. A stale heartbeat withholds the
    pings, says why in ``STATUS=``, and systemd restarts the station once ``WatchdogSec`` runs
    out; a heartbeat that recovers in time resumes them. ``clock`` is a monotonic clock.

    Give the heartbeat more slack than the sampler's own loop can take, e.g.
    ``lambda: sampler.heartbeat_fresh(3.0)``: a sampler retrying a plate that cannot open beats
    only every 2 s, and that is a fault on screen, not a hang to restart.
    """

    def __init__(self, heartbeat: Callable[[], bool], *, notifier: Notifier | None = None,
                 interval_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 env: Mapping[str, str] | None = None, ready_status: str = "kiosk on screen"):
        if not callable(heartbeat):
            raise TypeError("Watchdog needs a heartbeat callable, e.g. sampler.heartbeat_fresh")
        if interval_s is not None and not interval_s > 0:
            raise ValueError(f"watchdog interval must be positive seconds, not {interval_s!r}")
        self.heartbeat = heartbeat
        self.notifier = notifier if notifier is not None else Notifier(env=env)
        self.interval_s = interval_s if interval_s is not None else watchdog_interval(env)
        self.clock = clock
        self.ready_status = ready_status
        self.ready_sent = False
        self.pings = 0
        self._last_ping: float | None = None
        self._stale = False

    @property
    def ping_every_s(self) -> float | None:
        """Half the watchdog period, as systemd recommends; None when there is no watchdog."""
        return None if self.interval_s is None else self.interval_s / 2

    def on_frame(self, stats=None, view=None) -> None:
        """The ``run_kiosk`` hook. Returns None so it never ends the kiosk loop."""
        self.tick()

    def tick(self) -> None:
        """Say READY=1 the first time; then feed the watchdog if due and the sampler is alive."""
        if not self.notifier.enabled:
            return
        now = self.clock()
        if not self.ready_sent:
            self.ready_sent = True
            self.notifier.ready(self.ready_status)
            log.info("told systemd the station is ready", extra={"watchdog_s": self.interval_s})
        if self.interval_s is None:
            return
        fresh = bool(self.heartbeat())
        if not fresh:
            if not self._stale:
                self._stale = True
                self.notifier.status("sampler heartbeat stale: withholding the watchdog")
                log.warning("sampler heartbeat is stale: not feeding the systemd watchdog; the "
                            "station restarts in %.0f s unless the sampler recovers",
                            self.interval_s)
            return
        if self._stale:
            self._stale = False
            self.notifier.status(self.ready_status)
            log.info("sampler heartbeat fresh again: feeding the watchdog")
        if self._last_ping is None or now - self._last_ping >= self.ping_every_s:
            if self.notifier.watchdog():
                self.pings += 1
            self._last_ping = now

    def close(self) -> None:
        """Close the notify socket; safe twice."""
        self.notifier.close()

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
