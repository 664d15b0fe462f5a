#!/usr/bin/env bash
# End-to-end test under a real systemd: a minimal Debian root (debootstrap, cached), booted
# with systemd-nspawn (never systemd on the host's own root), with the release binary, the
# units, the seed rules and a config bound in. Starts the service, drops the example reports
# into its inbox, and checks with journalctl that paper-tiger alerts arrive with their fields;
# then reload and stop. Alert delivery under the hardened unit (it may connect to this host
# only): a webhook receiver in the container's network namespace gets the alert records,
# and the metrics textfile is written.
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
TEST=systemd-e2e
. "$HERE/tests/lib/container.sh"

cat > "$WORK/pledgewatch.toml" <<CONF
rules_dir = "/etc/pledgewatch/rules"
inbox_dir = "/var/lib/pledgewatch/inbox"
state_dir = "/var/lib/pledgewatch"
[log]
format = "auto"
[alerts.webhook]
url = "http://127.0.0.1:8766/hook"
timeout = "5s"
[metrics]
textfile = "/var/lib/pledgewatch/pledgewatch.prom"
[inbox]
settle = "200ms"
[feed.gdelt]
url = "http://127.0.0.1:8765/gdeltv2/"
backfill = "1h"
timeout = "10s"
CONF

boot_container \
    --bind-ro="$BIN:/usr/bin/pledgewatch" \
    --bind-ro="$HERE/systemd/pledgewatch.service:/etc/systemd/system/pledgewatch.service" \
    --bind-ro="$HERE/systemd/pledgewatch-fetch.service:/etc/systemd/system/pledgewatch-fetch.service" \
    --bind-ro="$HERE/systemd/pledgewatch-fetch.timer:/etc/systemd/system/pledgewatch-fetch.timer" \
    --bind-ro="$HERE/systemd/pledgewatch.sysusers:/etc/sysusers.d/pledgewatch.conf" \
    --bind-ro="$HERE/systemd/pledgewatch.tmpfiles:/etc/tmpfiles.d/pledgewatch.conf" \
    --bind-ro="$WORK/pledgewatch.toml:/etc/pledgewatch/pledgewatch.toml" \
    --bind-ro="$HERE/rules:/etc/pledgewatch/rules" \
    --bind-ro="$HERE/examples/reports:/srv/examples"

# the webhook receiver: the host's python3 in the container's network namespace, appending
# every POST body (one JSON record) to a file of the host's
command -v python3 >/dev/null || fail "the webhook receiver needs python3 on the host"
cat > "$WORK/receiver.py" <<'PY'
import http.server, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", 8766), Hook).serve_forever()
PY
: > "$WORK/hook.jsonl"
nsenter -t "$LEADER" -n -- python3 "$WORK/receiver.py" "$WORK/hook.jsonl" >"$WORK/receiver.log" 2>&1 &
RECEIVER_PID=$!

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

# the hardened unit reaches the webhook on this host: the records arrive, with their ids
hooked=
for _ in $(seq 300); do
    hooked=$(cat "$WORK/hook.jsonl")
    case "$hooked" in *'"alert":"paper_tiger"'*) break ;; esac
    sleep 0.1
done
case "$hooked" in
    *'"id":1,'*'"alert":"paper_tiger"'*) ;;
    *) cat "$WORK/receiver.log" >&2; inside journalctl -u pledgewatch --no-pager >&2; fail "the webhook got no paper_tiger record: $hooked" ;;
esac
metrics=$(inside cat /var/lib/pledgewatch/pledgewatch.prom 2>/dev/null || true)
case "$metrics" in
    *'pledgewatch_commitment_status{agreement="kgz-tjk-2007",commitment="military-cooperation",party="",status="paper_tiger"}'*) ;;
    *) fail "no metrics textfile, or it lacks the commitment statuses: $metrics" ;;
esac
echo "systemd-e2e: $(printf '%s\n' "$hooked" | grep -c '"id"') records at the webhook; metrics written" >&2
kill "$RECEIVER_PID" 2>/dev/null || true

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
    for field in '"AGREEMENT":"kgz-tjk-2007"' '"STATUS":"breached"' '"_SYSTEMD_UNIT":"pledgewatch.service"'; do
        case "$breached" in *"$field"*) ;; *) fail "breach alert lacks $field: $breached" ;; esac
    done
    # the reason counts the breaches (with the examples' earlier clashes) and names today's
    case "$breached" in
        *"\"REASON\":\"breach reported on $today"* | *"\"REASON\":\""*" breach reports on "*"the last on $today"* | *"\"REASON\":\""*" breach reports on $today"*) ;;
        *) fail "breach alert's reason does not name today's breach: $breached" ;;
    esac
    echo "systemd-e2e: fetched GDELT rows raised a breach alert" >&2
fi

inside systemctl stop pledgewatch
result=$(inside systemctl show -p Result --value pledgewatch)
status=$(inside systemctl show -p ExecMainStatus --value pledgewatch)
[ "$result" = success ] && [ "$status" = 0 ] || fail "stop: Result=$result ExecMainStatus=$status"
poweroff_container
echo "systemd-e2e: ok" >&2
