#!/bin/sh
# scripts/canopy-monitor-cron.sh - run `canopy monitor` from cron.
#
#   canopy-monitor-cron.sh STATE_DIR INPUT...
#
# Appends the run's JSON log line (and any message) to STATE_DIR/monitor.log,
# runs at low CPU and I/O priority, and treats "another run still holds the
# lock" (exit 3) as a normal outcome: the earlier run is still busy and the
# next cron run picks up whatever is left. Every other non-zero exit is passed
# on, so cron mails it.
#
# Environment:
#   CANOPY               the canopy binary (default: canopy on PATH, else
#                        bin/canopy next to this script's folder)
#   CANOPY_MONITOR_ARGS  extra arguments, e.g. '--db "PG:dbname=forest" -c site.ini
#                        --on-new /usr/local/bin/notify-alerts'
#
# Example crontab line (scripts/canopy-monitor.crontab): every day at 03:17
#   17 3 * * * /opt/canopy/scripts/canopy-monitor-cron.sh /srv/canopy/state /srv/scenes/incoming
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 STATE_DIR INPUT..." >&2
    exit 2
fi
state=$1
shift

here=$(cd "$(dirname "$0")" && pwd)
canopy=${CANOPY:-}
if [ -z "$canopy" ]; then
    if command -v canopy >/dev/null 2>&1; then
        canopy=canopy
    else
        canopy="$here/../bin/canopy"
    fi
fi

mkdir -p "$state" || exit 1
log="$state/monitor.log"

nice_cmd=""
command -v nice >/dev/null 2>&1 && nice_cmd="nice -n 10"
command -v ionice >/dev/null 2>&1 && nice_cmd="$nice_cmd ionice -c 3"

# CANOPY_MONITOR_ARGS is split like a shell command line, on purpose.
eval "set -- ${CANOPY_MONITOR_ARGS:-} \"\$@\""
# shellcheck disable=SC2086
$nice_cmd "$canopy" monitor --state "$state" -q "$@" >>"$log" 2>&1
rc=$?
case $rc in
    0) exit 0 ;;
    3) echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) canopy-monitor-cron: previous run still busy (exit 3)" >>"$log"
       exit 0 ;;
    *) echo "canopy monitor failed with exit status $rc; see $log" >&2
       tail -3 "$log" >&2
       exit "$rc" ;;
esac
