#!/usr/bin/env bash
# The Debian package under a real systemd: installed into the booted minimal Debian with
# dpkg, the service is active, quiet within the packaged alert hold, and alerts reach the
# journal once the admin shortens it; an upgrade to a higher version
# keeps the ledger, repeats no alert and keeps the conffile the admin edited; remove stops
# the service and keeps /etc and /var/lib; purge removes them and the user.
#
# Usage: tests/deb-e2e.sh PACKAGE_DEB UPGRADE_DEB
# Needs root, debootstrap and systemd-container (.ci/run installs them).
set -euo pipefail
OLD=$(readlink -f "$1")
NEW=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")/.." && pwd)
TEST=deb-e2e
. "$HERE/tests/lib/container.sh"

mkdir "$WORK/debs"
cp "$OLD" "$NEW" "$WORK/debs/"
boot_container --bind-ro="$WORK/debs:/srv/debs" --bind-ro="$HERE/examples/reports:/srv/examples"

wait_for() { # wait_for WHAT COMMAND...: up to 60 s for COMMAND to succeed
    local what=$1; shift
    for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    inside journalctl -u pledgewatch --no-pager >&2 || true
    fail "timed out waiting for $what"
}
alert_count() {
    local records
    records=$(inside journalctl -u pledgewatch -o json --no-pager 2>/dev/null || true)
    printf '%s\n' "$records" | grep -c '"ALERT":"' || true
}
reports_read() {
    local json
    json=$(inside pledgewatch status --format json --config /etc/pledgewatch/pledgewatch.toml)
    json=${json#*\"read\": }
    printf '%s\n' "${json%%,*}"
}

# install
inside dpkg -i "/srv/debs/${OLD##*/}" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "dpkg -i failed"; }
[ "$(inside systemctl is-active pledgewatch)" = active ] || { cat "$WORK/install.log" >&2; fail "the service is not active after install"; }
[ "$(inside systemctl is-enabled pledgewatch)" = enabled ] || fail "the service is not enabled"
[ "$(inside systemctl is-enabled pledgewatch-fetch.timer)" = disabled ] || fail "the fetch timer should wait for the admin"
inside id pledgewatch >/dev/null || fail "no pledgewatch user"
[ "$(inside stat -c %a /var/lib/pledgewatch/inbox)" = 2770 ] || fail "the inbox is not 2770"
for f in /usr/share/man/man1/pledgewatch.1.gz /usr/share/man/man1/pledgewatch-fetch-gdelt.1.gz \
         /usr/share/man/man5/pledgewatch.toml.5.gz /usr/share/man/man5/pledgewatch-rules.5.gz \
         /usr/share/bash-completion/completions/pledgewatch /usr/share/zsh/vendor-completions/_pledgewatch \
         /usr/share/fish/vendor_completions.d/pledgewatch.fish /etc/pledgewatch/rules/kgz-tjk-2007.toml \
         /usr/lib/systemd/system/pledgewatch-fetch.timer /usr/share/doc/pledgewatch/copyright \
         /usr/share/doc/pledgewatch/writing-rules.md /usr/share/doc/pledgewatch/examples/arm-aze-2020/rules/arm-aze-rus-2020.toml \
         /usr/share/doc/pledgewatch/reference.md /usr/share/doc/pledgewatch/examples/datasets/acled-kgz-tjk.csv; do
    inside test -s "$f" || fail "$f is missing"
done
inside zcat /usr/share/man/man1/pledgewatch.1.gz | grep -q '^\.TH pledgewatch 1' || fail "pledgewatch(1) is not a man page"
inside sh -c 'for f in /srv/examples/*; do cp "$f" /var/lib/pledgewatch/inbox/.drop && mv /var/lib/pledgewatch/inbox/.drop "/var/lib/pledgewatch/inbox/${f##*/}" || exit 1; done'
# the packaged config holds alerts for 15 minutes: a fresh install filling its inbox pages
# nobody (the empty inbox's paper tigers, resolved by the examples, make no record at all)
wait_for "the examples taken" sh -c "nsenter -t $LEADER -a sh -c 'test -z \"\$(ls /var/lib/pledgewatch/inbox)\"'"
sleep 3
[ "$(alert_count)" = 0 ] || fail "alerts within the packaged hold: $(alert_count)"
# the admin shortens the hold and reloads: the alarms that lasted are alerted
inside sed -i 's/^hold = "15m"/hold = "5s"/' /etc/pledgewatch/pledgewatch.toml
inside sh -c 'echo "# edited by the admin" >> /etc/pledgewatch/pledgewatch.toml'
inside systemctl reload pledgewatch || fail "reload failed"
wait_for "paper_tiger alerts" sh -c "nsenter -t $LEADER -a journalctl -u pledgewatch ALERT=paper_tiger -o cat --no-pager | grep -q ."
sleep 2
before_reports=$(reports_read)
before_alerts=$(alert_count)
[ "$before_reports" -gt 0 ] || fail "no reports in the ledger"
echo "$TEST: installed; quiet within the packaged hold; $before_reports reports, $before_alerts alerts once it was shortened" >&2
before_pid=$(inside systemctl show -p MainPID --value pledgewatch)

# upgrade
inside dpkg -i "/srv/debs/${NEW##*/}" >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log" >&2; fail "the upgrade failed"; }
[ "$(inside systemctl is-active pledgewatch)" = active ] || { cat "$WORK/upgrade.log" >&2; fail "not active after the upgrade"; }
after_pid=$(inside systemctl show -p MainPID --value pledgewatch)
[ "$after_pid" != "$before_pid" ] || fail "the upgrade did not restart the service"
inside grep -q "edited by the admin" /etc/pledgewatch/pledgewatch.toml || fail "the upgrade replaced the edited conffile"
wait_for "the restarted daemon" sh -c "nsenter -t $LEADER -a journalctl -u pledgewatch -o cat --no-pager | grep -c ready | grep -qv '^1$'"
sleep 2
[ "$(reports_read)" = "$before_reports" ] || fail "the ledger lost reports: $(reports_read) of $before_reports"
[ "$(alert_count)" = "$before_alerts" ] || fail "alerts repeated after the upgrade: $(alert_count) records, $before_alerts before"
echo "$TEST: upgraded; the ledger kept $before_reports reports, no alert repeated, the conffile kept" >&2

# remove, then purge
inside apt-get remove -y pledgewatch >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log" >&2; fail "remove failed"; }
state=$(inside systemctl is-active pledgewatch || true)
[ "$state" != active ] || fail "the service still runs after remove"
inside test -s /var/lib/pledgewatch/pledgewatch.db || fail "remove lost the ledger"
inside test -s /etc/pledgewatch/pledgewatch.toml || fail "remove lost the config"
inside apt-get purge -y pledgewatch >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; fail "purge failed"; }
inside test ! -e /var/lib/pledgewatch || fail "purge left /var/lib/pledgewatch"
inside test ! -e /etc/pledgewatch || fail "purge left /etc/pledgewatch"
if inside id pledgewatch >/dev/null 2>&1; then fail "purge left the user"; fi
poweroff_container
echo "$TEST: ok" >&2
