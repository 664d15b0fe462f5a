# Shared by the end-to-end tests: a cached minimal Debian root (debootstrap), booted with
# systemd-nspawn on a volatile overlay (never systemd on the host's own root), and removal
# of what nspawn leaves behind. Source it after setting TEST (the name in messages) and
# HTTPD_PID= (and RECEIVER_PID=, killed at exit too); then `boot_container EXTRA_NSPAWN_ARGS...` sets LEADER, and `inside CMD...`
# runs a command in the container. Needs root, debootstrap and systemd-container.

ROOT=${PLEDGEWATCH_E2E_ROOT:-/var/cache/pledgewatch-e2e/bookworm}
NAME=pwtest$$
fail() { echo "$TEST: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
command -v debootstrap >/dev/null || fail "needs debootstrap (apt-get install debootstrap)"
command -v systemd-nspawn >/dev/null || fail "needs systemd-nspawn (apt-get install systemd-container)"

if [ ! -x "$ROOT/lib/systemd/systemd" ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    rm -rf "$ROOT.partial"
    mkdir -p "$(dirname "$ROOT")"
    echo "$TEST: building a minimal Debian root in $ROOT from $mirror" >&2
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps bookworm "$ROOT.partial" "$mirror" >/dev/null
    mv "$ROOT.partial" "$ROOT"
fi

WORK=$(mktemp -d)
NSPAWN_PID=
HTTPD_PID=
RECEIVER_PID=
# What nspawn leaves behind on a host where systemd is not PID 1: its /run/systemd/nspawn
# folders and the payload/supervisor cgroups. Remove only what did not exist before.
LEFTOVERS="/run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn/unix-export /run/systemd/nspawn"
for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    for d in payload supervisor; do [ -d "$h/$d" ] || LEFTOVERS="$LEFTOVERS $h/$d"; done
done
PREEXISTING=
for d in $LEFTOVERS; do [ -e "$d" ] && PREEXISTING="$PREEXISTING $d"; done
cleanup() {
    [ -n "$HTTPD_PID" ] && kill "$HTTPD_PID" 2>/dev/null || true
    [ -n "$RECEIVER_PID" ] && kill "$RECEIVER_PID" 2>/dev/null || true
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        kill "$NSPAWN_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$NSPAWN_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK" /run/systemd/nspawn/unix-export/"$NAME" /run/systemd/nspawn/propagate/"$NAME" 2>/dev/null || true
    for d in $LEFTOVERS; do
        case " $PREEXISTING " in *" $d "*) continue ;; esac
        [ -d "$d" ] || continue
        # cgroups: children first; rmdir refuses anything still in use
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
}
trap cleanup EXIT


# Boots the container with the given extra nspawn arguments (bind mounts); sets LEADER.
boot_container() {
    setsid systemd-nspawn -D "$ROOT" --volatile=overlay -b --register=no --keep-unit \
        --private-network -M "$NAME" --console=passive "$@" \
        >"$WORK/console.log" 2>&1 &
    NSPAWN_PID=$!
    LEADER=
    for _ in $(seq 600); do
        LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd || true)
        [ -n "$LEADER" ] && break
        sleep 0.1
    done
    [ -n "$LEADER" ] || { cat "$WORK/console.log" >&2; fail "the container did not boot"; }
    for _ in $(seq 600); do
        state=$(inside systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) break ;; esac
        sleep 0.1
    done
    echo "$TEST: container up ($state)" >&2
}
inside() { nsenter -t "$LEADER" -a "$@"; }

# Shuts the container down.
poweroff_container() {
    inside systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
}
