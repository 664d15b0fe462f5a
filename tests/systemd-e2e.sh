#!/usr/bin/env bash
# End-to-end test under a real systemd: a minimal Debian root (debootstrap, cached), booted
# with systemd-nspawn (never systemd on the host's own root), with the release binary, the
# units, the seed rules and a config bound in. Starts the service, drops the example reports
# into its inbox, and checks with journalctl that paper-tiger alerts arrive with their fields;
# then reload and stop.
#
# With GDELT_DIR, the feed too: a GDELT folder (gdeltv2/lastupdate.txt, masterfilelist.txt
# and archives naming http://127.0.0.1:8765/gdeltv2/) is served inside the container's own
# network namespace by the host's python3; the timer's service runs, its files land in the
# inbox, the daemon takes them, and the breach alert derived from a fetched row is checked.
#
# Usage: tests/systemd-e2e.sh PLEDGEWATCH_BINARY [GDELT_DIR]
# Needs root, debootstrap and systemd-container (.ci/run installs them), and python3 for the
# feed part.
set -euo pipefail
BIN=$(readlink -f "$1")
GDELT=${2:+$(readlink -f "$2")}
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${PLEDGEWATCH_E2E_ROOT:-/var/cache/pledgewatch-e2e/bookworm}
NAME=pwtest$$
fail() { echo "systemd-e2e: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
command -v debootstrap >/dev/null || fail "needs debootstrap (apt-get install debootstrap)"
command -v systemd-nspawn >/dev/null || fail "needs systemd-nspawn (apt-get install systemd-container)"

if [ ! -x "$ROOT/lib/systemd/systemd" ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    rm -rf "$ROOT.partial"
    mkdir -p "$(dirname "$ROOT")"
    echo "systemd-e2e: building a minimal Debian root in $ROOT from $mirror" >&2
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps bookworm "$ROOT.partial" "$mirror" >/dev/null
    mv "$ROOT.partial" "$ROOT"
fi

WORK=$(mktemp -d)
NSPAWN_PID=
HTTPD_PID=
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

cat > "$WORK/pledgewatch.toml" <<CONF
rules_dir = "/etc/pledgewatch/rules"
inbox_dir = "/var/lib/pledgewatch/inbox"
state_dir = "/var/lib/pledgewatch"
[log]
format = "auto"
[inbox]
settle = "200ms"
[feed.gdelt]
url = "http://127.0.0.1:8765/gdeltv2/"
backfill = "1h"
timeout = "10s"
CONF

setsid systemd-nspawn -D "$ROOT" --volatile=overlay -b --register=no --keep-unit \
    --private-network -M "$NAME" --console=passive \
    --bind-ro="$BIN:/usr/bin/pledgewatch" \
    --bind-ro="$HERE/systemd/pledgewatch.service:/etc/systemd/system/pledgewatch.service" \
    --bind-ro="$HERE/systemd/pledgewatch-fetch.service:/etc/systemd/system/pledgewatch-fetch.service" \
    --bind-ro="$HERE/systemd/pledgewatch-fetch.timer:/etc/systemd/system/pledgewatch-fetch.timer" \
    --bind-ro="$HERE/systemd/pledgewatch.sysusers:/etc/sysusers.d/pledgewatch.conf" \
    --bind-ro="$HERE/systemd/pledgewatch.tmpfiles:/etc/tmpfiles.d/pledgewatch.conf" \
    --bind-ro="$WORK/pledgewatch.toml:/etc/pledgewatch/pledgewatch.toml" \
    --bind-ro="$HERE/rules:/etc/pledgewatch/rules" \
    --bind-ro="$HERE/examples/reports:/srv/examples" \
    >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
LEADER=
for _ in $(seq 600); do
    LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd || true)
    [ -n "$LEADER" ] && break
    sleep 0.1
done
[ -n "$LEADER" ] || { cat "$WORK/console.log" >&2; fail "the container did not boot"; }
inside() { nsenter -t "$LEADER" -a "$@"; }
for _ in $(seq 600); do
    state=$(inside systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 0.1
done
echo "systemd-e2e: container up ($state)" >&2

inside systemctl start pledgewatch || { inside journalctl -u pledgewatch --no-pager >&2; fail "start failed"; }
[ "$(inside systemctl is-active pledgewatch)" = active ] || fail "not active after start"
inside id pledgewatch >/dev/null || fail "sysusers did not create the pledgewatch user"
[ "$(inside stat -c %a /var/lib/pledgewatch/inbox)" = 2770 ] || fail "the inbox is not 2770 (tmpfiles)"

inside sh -c 'for f in /srv/examples/*; do cp "$f" /var/lib/pledgewatch/inbox/.tmp-drop && mv /var/lib/pledgewatch/inbox/.tmp-drop "/var/lib/pledgewatch/inbox/${f##*/}" || exit 1; done' \
    || fail "cannot drop the examples into the inbox"
alerts=
for _ in $(seq 600); do
    alerts=$(inside journalctl -u pledgewatch ALERT=paper_tiger -o json --no-pager 2>/dev/null || true)
    [ -n "$alerts" ] && break
    sleep 0.1
done
[ -n "$alerts" ] || { inside journalctl -u pledgewatch --no-pager >&2; fail "no ALERT=paper_tiger record in the journal"; }
# (no pipes into head or grep -q here: with pipefail, their early exit can fail the pipe)
first=${alerts%%$'\n'*}
for field in '"ALERT":"paper_tiger"' '"AGREEMENT":"kgz-tjk-2007"' '"COMMITMENT":' '"STATUS":"paper_tiger"' '"REASON":' '"PRIORITY":"4"' '"_SYSTEMD_UNIT":"pledgewatch.service"'; do
    case "$first" in *"$field"*) ;; *) fail "alert record lacks $field: $first" ;; esac
done
echo "systemd-e2e: $(printf '%s\n' "$alerts" | wc -l) paper_tiger alerts in the journal" >&2

inside systemctl reload pledgewatch || fail "reload failed"
reloaded=
for _ in $(seq 600); do
    log=$(inside journalctl -u pledgewatch --no-pager -o cat 2>/dev/null || true)
    case "$log" in *"rules reloaded"*) reloaded=1; break ;; esac
    sleep 0.1
done
[ -n "$reloaded" ] || { inside journalctl -u pledgewatch --no-pager >&2; fail "no 'rules reloaded' after systemctl reload"; }
[ "$(inside systemctl is-active pledgewatch)" = active ] || fail "not active after reload"

if [ -n "$GDELT" ]; then
    command -v python3 >/dev/null || fail "the feed part needs python3 on the host"
    # the server runs on the host's files, in the container's network namespace only
    nsenter -t "$LEADER" -n -- python3 -m http.server 8765 --bind 127.0.0.1 --directory "$GDELT" \
        >"$WORK/httpd.log" 2>&1 &
    HTTPD_PID=$!
    up=
    for _ in $(seq 100); do
        if nsenter -t "$LEADER" -n -- python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8765), 1)' 2>/dev/null; then
            up=1; break
        fi
        sleep 0.1
    done
    [ -n "$up" ] || { cat "$WORK/httpd.log" >&2; fail "the local GDELT server did not start"; }
    inside systemctl start pledgewatch-fetch.timer || fail "cannot start the fetch timer"
    [ "$(inside systemctl is-active pledgewatch-fetch.timer)" = active ] || fail "the fetch timer is not active"
    # the timer's service, now rather than at the next quarter hour
    inside systemctl start pledgewatch-fetch.service \
        || { inside journalctl -u pledgewatch-fetch --no-pager >&2; fail "the fetch service failed"; }
    status=$(inside systemctl show -p ExecMainStatus --value pledgewatch-fetch.service)
    [ "$status" = 0 ] || { inside journalctl -u pledgewatch-fetch --no-pager >&2; fail "fetch exited $status"; }
    fetched=$(inside journalctl -u pledgewatch-fetch -o json --no-pager 2>/dev/null || true)
    for field in '"OUTCOME":"written"' '"SLOT":"' '"ROWS_KEPT":"1"' '"ROWS_READ":"101"'; do
        case "$fetched" in *"$field"*) ;; *) inside journalctl -u pledgewatch-fetch --no-pager >&2; fail "the fetch journal lacks $field" ;; esac
    done
    breached=
    for _ in $(seq 600); do
        breached=$(inside journalctl -u pledgewatch ALERT=breached COMMITMENT=military-cooperation -o json --no-pager 2>/dev/null || true)
        [ -n "$breached" ] && break
        sleep 0.1
    done
    [ -n "$breached" ] || { inside journalctl -u pledgewatch --no-pager >&2; fail "no breach alert from the fetched rows"; }
    today=$(date -u +%F)
    for field in '"AGREEMENT":"kgz-tjk-2007"' '"STATUS":"breached"' "\"REASON\":\"breach reported on $today" '"_SYSTEMD_UNIT":"pledgewatch.service"'; do
        case "$breached" in *"$field"*) ;; *) fail "breach alert lacks $field: $breached" ;; esac
    done
    echo "systemd-e2e: fetched GDELT rows raised a breach alert" >&2
fi

inside systemctl stop pledgewatch
result=$(inside systemctl show -p Result --value pledgewatch)
status=$(inside systemctl show -p ExecMainStatus --value pledgewatch)
[ "$result" = success ] && [ "$status" = 0 ] || fail "stop: Result=$result ExecMainStatus=$status"
inside systemctl poweroff >/dev/null 2>&1 || true
for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
echo "systemd-e2e: ok" >&2
