#!/usr/bin/env bash
# Install, update or remove gym-station on Raspberry Pi OS (Bookworm or Trixie, Lite or desktop).
#
#   sudo deploy/install.sh                 install, or update an installed station (keeps config
#                                          and data); then runs the plate self-test
#   sudo deploy/install.sh --dry-run       print what it would do and change nothing
#   sudo deploy/install.sh --uninstall     remove the program, unit and kiosk settings; keep
#                                          /etc/gym-station (config) and /var/lib/gym-station (data)
#   sudo deploy/install.sh --purge         --uninstall, and remove config, data and the user too
#
# What an install does, each step only if it is not done already (running it twice = once):
#   - Debian packages: python3-venv, python3-lgpio, the SDL/KMSDRM runtime libraries the
#     pygame-ce wheel loads (libdrm2, libgbm1, libegl1, libgles2, libasound2, libudev1),
#     alsa-utils, espeak-ng, sqlite3
#   - a system user gym-station in the groups gpio, video, render, input and audio
#   - /opt/gym-station/venv: a venv with this checkout installed (pip extra "pi")
#   - /etc/gym-station (root:gym-station, 0750; files 0640): the shipped config/, never
#     overwritten; where a shipped file changed, the new one is put beside yours as FILE.dist
#   - /var/lib/gym-station (gym-station, 0750): calibration, usage log, sound cache
#   - /etc/systemd/system/gym-station.service, enabled; getty@tty1 masked (no console login on
#     the kiosk's screen); consoleblank=0 on the kernel command line (no screen blanking)
#   - USB sticks mount by themselves for the staff's export (Pi OS Lite mounts none):
#     /etc/udev/rules.d/99-gym-station-usb.rules and its helper /opt/gym-station/usb-stick mount
#     a FAT/exFAT/NTFS stick at /media/gym-station/<label>, writable by gym-station (WIRING.md)
#   - /usr/local/bin/gym-station: the command at the console, on the station's config and state
#     as its user (sudo gym-station pin set coach); the coach's and staff's PINs asked for when
#     not set and a person is at the terminal
#   - an installed station that is running is stopped for the self-test and started again
#
# --root DIR (or $GYM_STATION_ROOT) installs into DIR instead of / (for tests and image builds).
# Every path is prefixed with DIR; commands that need the live system are printed as
# "skip (--root): ..." and not run: apt-get, groupadd/useradd/usermod/userdel, chown to the
# station's user, systemctl daemon-reload/start/stop/restart, udevadm control --reload and the
# self-test. Units are
# enabled and masked with `systemctl --root=DIR`, which only writes symlinks under DIR.
# $GYM_STATION_PIP_ARGS adds arguments to the pip install (the tests pass --no-deps: the venv
# sees the system's site-packages, so nothing else is downloaded).
#
# Output: "+ cmd" a command run, "would: cmd" a command --dry-run did not run,
# "skip (--root): cmd" a live-system command skipped, "ok: ..." a step already done.

set -euo pipefail

APP=gym-station
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GROUPS_WANTED=(gpio video render input audio)

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
    echo "Options: --dry-run  --uninstall  --purge  --root DIR  --no-self-test  --help"
}

die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

DRY_RUN=0
ACTION=install
PURGE=0
SELF_TEST=1
ROOT=${GYM_STATION_ROOT:-}
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --uninstall) ACTION=uninstall ;;
        --purge) ACTION=uninstall; PURGE=1 ;;
        --no-self-test) SELF_TEST=0 ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
    shift
done

if [ -n "$ROOT" ]; then
    [ -d "$ROOT" ] || die "--root $ROOT: no such directory (create it first)"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" = / ] && ROOT=
fi
if [ -z "$ROOT" ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "run it as root (sudo $0), or try --dry-run to see what it would do"
fi

OPT=$ROOT/opt/$APP
VENV=$OPT/venv
ETC=$ROOT/etc/$APP
VAR=$ROOT/var/lib/$APP
UNIT_DIR=$ROOT/etc/systemd/system
UNIT=$UNIT_DIR/$APP.service
BLANK_MARK=$OPT/consoleblank.orig
USB_RULE=$ROOT/etc/udev/rules.d/99-$APP-usb.rules
USB_HELPER=$OPT/usb-stick
CONSOLE=$ROOT/usr/local/bin/$APP
SYSTEMCTL=(systemctl)
[ -n "$ROOT" ] && SYSTEMCTL=(systemctl "--root=$ROOT")

# -- how each action is carried out -------------------------------------------------------------

# A command as a person would type it: words with spaces or shell characters single-quoted.
show() {
    local out="" a q="'"
    for a in "$@"; do
        if [[ $a =~ ^[][A-Za-z0-9_./:=,@+%-]+$ ]]; then
            out+=" $a"
        else
            out+=" '${a//$q/$q\\$q$q}'"
        fi
    done
    printf '%s' "${out# }"
}

# A command that changes files under the install root: run, except under --dry-run.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would: %s\n' "$(show "$@")"
        return 0
    fi
    printf '+ %s\n' "$(show "$@")"
    "$@"
}

# A command that needs the live system (apt, users, systemd): also skipped under --root.
live() {
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would: %s\n' "$(show "$@")"
    elif [ -n "$ROOT" ]; then
        printf 'skip (--root): %s\n' "$(show "$@")"
    else
        printf '+ %s\n' "$(show "$@")"
        "$@"
    fi
}

ok() { printf 'ok: %s\n' "$*"; }

# mode of an existing file or directory, e.g. 750
mode_of() { stat -c %a "$1"; }

# install -d a directory with a mode and an owner (root:root unless given)
ensure_dir() {
    local dir=$1 mode=$2 owner=${3:-root:root}
    if [ -d "$dir" ] && [ "$(mode_of "$dir")" = "$mode" ]; then
        ok "$dir ($mode)"
    else
        run install -d -m "$mode" "$dir"
    fi
    ensure_owner "$dir" "$owner"
}

ensure_owner() {
    local path=$1 owner=$2
    if [ -n "$ROOT" ] && [ "$owner" = root:root ]; then
        return 0  # whoever runs a --root install owns its files; root:root is the live default
    fi
    if [ -z "$ROOT" ] && [ -e "$path" ] && [ "$(stat -c %U:%G "$path")" = "$owner" ]; then
        return 0
    fi
    if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ]; then
        live chown "$owner" "$path"
    else
        run chown "$owner" "$path"
    fi
}

# install a file with a mode if it is missing or differs
ensure_file() {
    local src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        if [ "$(mode_of "$dest")" = "$mode" ]; then
            ok "$dest"
        else
            run chmod "$mode" "$dest"
        fi
    else
        run install -m "$mode" "$src" "$dest"
    fi
}

# -- install steps ------------------------------------------------------------------------------

os_codename() {
    local release=/etc/os-release
    [ -f "$ROOT/etc/os-release" ] && release=$ROOT/etc/os-release
    # shellcheck disable=SC1090
    (. "$release" 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")
}

install_packages() {
    local codename asound
    codename=$(os_codename)
    case $codename in
        bookworm) asound=libasound2 ;;
        trixie|forky|sid) asound=libasound2t64 ;;  # the 64-bit time_t rename
        *) printf 'warning: %s is not Bookworm or Trixie; trying the Bookworm package names\n' \
               "${codename:-this system}" >&2
           asound=libasound2 ;;
    esac
    live apt-get update -q
    live env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        python3-venv python3-lgpio libdrm2 libgbm1 libegl1 libgles2 "$asound" libudev1 \
        alsa-utils espeak-ng sqlite3
}

ensure_user() {
    local g missing=()
    if [ -n "$ROOT" ]; then
        live useradd --system --user-group --home-dir /var/lib/$APP --no-create-home \
            --shell /usr/sbin/nologin $APP
        live usermod -a -G "$(IFS=,; echo "${GROUPS_WANTED[*]}")" $APP
        return 0
    fi
    for g in "${GROUPS_WANTED[@]}"; do
        getent group "$g" >/dev/null || live groupadd --system "$g"
    done
    if getent passwd $APP >/dev/null; then
        ok "user $APP"
    else
        live useradd --system --user-group --home-dir /var/lib/$APP --no-create-home \
            --shell /usr/sbin/nologin --comment "gym-station kiosk" $APP
    fi
    local have
    have=" $(id -nG $APP 2>/dev/null || true) "
    for g in "${GROUPS_WANTED[@]}"; do
        case $have in *" $g "*) ;; *) missing+=("$g") ;; esac
    done
    if [ ${#missing[@]} -eq 0 ]; then
        ok "$APP is in ${GROUPS_WANTED[*]}"
    else
        live usermod -a -G "$(IFS=,; echo "${missing[*]}")" $APP
    fi
}

install_config() {
    ensure_dir "$ETC" 750 root:$APP
    ensure_dir "$ETC/scenarios" 750 root:$APP
    local src rel dest
    while IFS= read -r src; do
        rel=${src#"$SRC/config/"}
        dest=$ETC/$rel
        if [ ! -e "$dest" ]; then
            run install -m 640 "$src" "$dest"
        elif cmp -s "$src" "$dest"; then
            ok "$dest"
        elif [ -f "$dest.dist" ] && cmp -s "$src" "$dest.dist"; then
            ok "$dest kept (yours); the shipped one is $dest.dist"
        else
            printf 'keeping your %s; the shipped version goes beside it as %s.dist\n' "$dest" "$dest"
            run install -m 640 "$src" "$dest.dist"
        fi
        if [ -e "$dest" ] && [ "$(mode_of "$dest")" != 640 ]; then
            run chmod 640 "$dest"
        fi
        ensure_owner "$dest" root:$APP
    done < <(find "$SRC/config" -type f -name '*.toml' | LC_ALL=C sort)
}

venv_usable() {
    [ -x "$VENV/bin/python" ] || return 1
    local want have
    want=$(python3 -c 'import sys; print(sys.version_info[:2])') || return 1
    have=$("$VENV/bin/python" -c 'import sys; print(sys.version_info[:2])' 2>/dev/null) || return 1
    [ "$want" = "$have" ]
}

install_program() {
    ensure_dir "$OPT" 755
    if venv_usable; then
        ok "$VENV"
    else
        # --system-site-packages: lgpio comes from Debian's python3-lgpio
        run python3 -m venv --clear --system-site-packages "$VENV"
    fi
    local pip_args=()
    read -r -a pip_args <<< "${GYM_STATION_PIP_ARGS:-}"
    if [ "$DRY_RUN" = 1 ]; then
        printf 'would: %s\n' "$VENV/bin/pip install --upgrade ${pip_args[*]} ${SRC}[pi]"
    else
        # build from a copy: pip would otherwise leave build/ and *.egg-info in the checkout
        local stage
        stage=$(mktemp -d)
        # shellcheck disable=SC2064  # expand now: $stage is local
        trap "rm -rf '$stage'" EXIT
        cp -R "$SRC/pyproject.toml" "$SRC/README.md" "$SRC/station" "$SRC/drivers" \
            "$SRC/display" "$SRC/config" "$stage/"
        find "$stage" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
        run "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade \
            "${pip_args[@]}" "${stage}[pi]"
        rm -rf "$stage"
        trap - EXIT
    fi
    ensure_file "$SRC/README.md" "$OPT/README.md" 644
    ensure_file "$SRC/deploy/WIRING.md" "$OPT/WIRING.md" 644
}

install_unit() {
    local changed=0
    ensure_dir "$UNIT_DIR" 755
    if [ -f "$UNIT" ] && cmp -s "$SRC/deploy/$APP.service" "$UNIT"; then
        ok "$UNIT"
    else
        run install -m 644 "$SRC/deploy/$APP.service" "$UNIT"
        changed=1
    fi
    [ "$changed" = 1 ] && live systemctl daemon-reload
    if [ "$("${SYSTEMCTL[@]}" is-enabled $APP.service 2>/dev/null)" = enabled ]; then
        ok "$APP.service enabled"
    else
        run "${SYSTEMCTL[@]}" enable $APP.service
    fi
    if [ "$("${SYSTEMCTL[@]}" is-enabled getty@tty1.service 2>/dev/null)" = masked ]; then
        ok "getty@tty1 masked (no console login on the kiosk's screen)"
    else
        run "${SYSTEMCTL[@]}" mask getty@tty1.service
    fi
}

# udev reads rule files when they change, but only on its next event: tell it now
reload_udev() {
    live udevadm control --reload \
        || echo "warning: udev did not reload its rules: they apply after a reboot" >&2
}

install_usb_automount() {
    # the helper first: the rule runs it
    ensure_file "$SRC/deploy/usb-stick" "$USB_HELPER" 755
    ensure_dir "$ROOT/etc/udev" 755
    ensure_dir "${USB_RULE%/*}" 755
    if [ -f "$USB_RULE" ] && cmp -s "$SRC/deploy/${USB_RULE##*/}" "$USB_RULE"; then
        ensure_file "$SRC/deploy/${USB_RULE##*/}" "$USB_RULE" 644
    else
        run install -m 644 "$SRC/deploy/${USB_RULE##*/}" "$USB_RULE"
        reload_udev
        if [ "$DRY_RUN" = 0 ]; then
            echo "USB sticks mount at /media/gym-station/<label>: plug a stick in again if one is in"
        fi
    fi
}

cmdline_file() {
    local f
    for f in "$ROOT/boot/firmware/cmdline.txt" "$ROOT/boot/cmdline.txt"; do
        # Bookworm keeps a stub /boot/cmdline.txt that points to /boot/firmware: skip it
        if [ -f "$f" ] && ! grep -q 'DO NOT EDIT' "$f"; then
            printf '%s' "$f"
            return 0
        fi
    done
    return 1
}

no_blanking() {
    local f old
    if ! f=$(cmdline_file); then
        printf 'warning: no cmdline.txt under %s/boot (not a Raspberry Pi image?): add consoleblank=0 to the kernel command line yourself\n' "${ROOT:-}" >&2
        return 0
    fi
    if grep -Eq '(^| )consoleblank=0( |$)' "$f"; then
        ok "consoleblank=0 in $f"
        return 0
    fi
    old=$(grep -Eo '(^| )consoleblank=[^ ]*' "$f" | head -n1 | tr -d ' ' || true)
    if [ "$DRY_RUN" = 0 ]; then
        printf '%s\n' "$old" > "$BLANK_MARK"
    fi
    if [ -n "$old" ]; then
        run sed -i -E '1s/(^| )consoleblank=[^ ]*/\1consoleblank=0/' "$f"
    else
        run sed -i '1s/[[:space:]]*$/ consoleblank=0/' "$f"
    fi
    echo "screen blanking is off after the next reboot"
}

# `gym-station` at the console: the installed program on the station's config and state, run as
# the station's user (deploy/gym-station-console), so `sudo gym-station pin set coach` changes
# what the kiosk uses.
install_console() {
    ensure_dir "$ROOT/usr/local/bin" 755
    ensure_file "$SRC/deploy/$APP-console" "$CONSOLE" 755
}

# The coach's and staff's PINs: asked for here when a person is at the terminal and one is not
# set yet; otherwise the install says how to set them. (Unset, the touchscreen lets the very first
# person at the pad choose both.)
ask_pins() {
    local role tries
    if [ "$DRY_RUN" = 1 ] || [ -n "$ROOT" ]; then
        live /usr/local/bin/$APP pin set coach
        live /usr/local/bin/$APP pin set staff
        return 0
    fi
    for role in coach staff; do
        if "$CONSOLE" pin status "$role" >/dev/null 2>&1; then
            ok "the $role PIN is set"
        elif [ -t 0 ]; then
            echo "choose the $role PIN: it opens $role mode on the touchscreen"
            tries=0
            until "$CONSOLE" pin set "$role"; do
                tries=$((tries + 1))
                if [ "$tries" -ge 3 ]; then
                    echo "the $role PIN is not set: later run  sudo $APP pin set $role"
                    break
                fi
            done
        else
            echo "the $role PIN is not set: run  sudo $APP pin set $role  (or choose both PINs on the touchscreen at first start)"
        fi
    done
}

self_test() {
    local was_active=0
    if [ -z "$ROOT" ] && [ "$DRY_RUN" = 0 ] && systemctl is-active --quiet $APP.service; then
        was_active=1
        live systemctl stop $APP.service   # the running station holds the GPIOs
    fi
    if [ "$SELF_TEST" = 1 ]; then
        echo "self-test of the plate (gym-station check):"
        live runuser -u $APP -- env GYM_STATION_CONFIG=/etc/$APP/station.toml \
            GYM_STATION_STATE=/var/lib/$APP /opt/$APP/venv/bin/gym-station check --seconds 3 \
            || echo "warning: the self-test found a problem (above); fix the wiring and run: sudo -u $APP $VENV/bin/gym-station check"
    fi
    if [ "$was_active" = 1 ]; then
        live systemctl start $APP.service
        echo "updated: $APP restarted"
    elif [ "$DRY_RUN" = 1 ]; then
        echo "dry run: nothing was changed"
    else
        echo "installed: reboot to start the kiosk (sudo reboot)"
    fi
}

do_install() {
    if [ ! -f "$SRC/pyproject.toml" ] || [ ! -f "$SRC/deploy/$APP.service" ]; then
        die "$SRC does not look like a gym-station checkout"
    fi
    echo "gym-station: installing from $SRC into ${ROOT:-/}$([ "$DRY_RUN" = 1 ] && echo ' (dry run: nothing is changed)')"
    install_packages
    ensure_user
    install_config
    ensure_dir "$ROOT/var/lib" 755
    ensure_dir "$VAR" 750 $APP:$APP
    install_program
    install_unit
    install_usb_automount
    install_console
    no_blanking
    ask_pins
    self_test
}

# -- uninstall ----------------------------------------------------------------------------------

restore_blanking() {
    local f old
    [ -f "$BLANK_MARK" ] || return 0
    f=$(cmdline_file) || return 0
    old=$(cat "$BLANK_MARK")
    if [ -n "$old" ]; then
        run sed -i -E "1s/(^| )consoleblank=0( |\$)/\\1$old\\2/" "$f"
    else
        run sed -i -E '1s/ ?consoleblank=0( |$)/\1/' "$f"
    fi
}

do_uninstall() {
    echo "gym-station: removing from ${ROOT:-/}$([ "$DRY_RUN" = 1 ] && echo ' (dry run: nothing is changed)')"
    if [ -f "$UNIT" ]; then
        live systemctl stop $APP.service
        run "${SYSTEMCTL[@]}" disable $APP.service
        run rm -f "$UNIT"
        live systemctl daemon-reload
    else
        ok "no $UNIT"
    fi
    if [ "$("${SYSTEMCTL[@]}" is-enabled getty@tty1.service 2>/dev/null)" = masked ]; then
        run "${SYSTEMCTL[@]}" unmask getty@tty1.service
    fi
    if [ -f "$USB_RULE" ]; then
        # sticks mounted now stay mounted until they are pulled out; no new one is mounted
        run rm -f "$USB_RULE"
        reload_udev
    fi
    restore_blanking
    if [ -f "$CONSOLE" ]; then
        run rm -f "$CONSOLE"
    fi
    if [ -e "$OPT" ]; then
        run rm -rf "$OPT"
    else
        ok "no $OPT"
    fi
    if [ "$PURGE" = 1 ]; then
        [ -e "$ETC" ] && run rm -rf "$ETC"
        [ -e "$VAR" ] && run rm -rf "$VAR"
        if [ -n "$ROOT" ] || getent passwd $APP >/dev/null; then
            live userdel $APP
        fi
        echo "purged: program, configuration, data and the $APP user"
    else
        echo "removed the program; kept $ETC (configuration) and $VAR (calibration, usage log): --purge removes them"
    fi
}

case $ACTION in
    install) do_install ;;
    uninstall) do_uninstall ;;
esac
