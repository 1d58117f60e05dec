#!/bin/sh
# scripts/canopy-monitor-cron.sh - run `canopy monitor` from cron.
#
#   canopy-monitor-cron.sh STATE_DIR INPUT...
#
# Writes each run's output (its JSON log line and any message) and exit status
# to a file of its own, STATE_DIR/logs/monitor-<UTC time>-<pid>.log, and
# appends it to STATE_DIR/monitor.log (the history). Runs at low CPU and I/O
# priority, and treats "another run still holds the lock" (exit 3) as a
# normal outcome: the earlier run is still busy and the next cron run picks up
# whatever is left. Every other non-zero exit (1, 2, 4: see `canopy monitor
# --help`) is passed on with exactly this run's log on stderr, so cron's mail
# holds this run and nothing of an earlier one.
#
# Environment:
#   CANOPY               the canopy binary (default: canopy on PATH, else
#                        bin/canopy next to this script's folder)
#   CANOPY_MONITOR_ARGS  extra arguments, e.g. '--db "PG:dbname=forest" -c site.ini
#                        --on-new /usr/local/bin/notify-alerts'
#   CANOPY_MONITOR_KEEP_LOGS  how many per-run log files to keep (default 100)
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

mkdir -p "$state/logs" || exit 1
history="$state/monitor.log"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$state/logs/monitor-$stamp-$$.log"

nice_cmd=""
command -v nice >/dev/null 2>&1 && nice_cmd="nice -n 10"
command -v ionice >/dev/null 2>&1 && nice_cmd="$nice_cmd ionice -c 3"

# CANOPY_MONITOR_ARGS is split like a shell command line, on purpose.
eval "set -- ${CANOPY_MONITOR_ARGS:-} \"\$@\""
# shellcheck disable=SC2086
$nice_cmd "$canopy" monitor --state "$state" -q "$@" >"$log" 2>&1
rc=$?
case $rc in
    3) echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) canopy-monitor-cron: previous run still busy (exit 3)" >>"$log" ;;
esac
echo "canopy-monitor-cron: exit status $rc" >>"$log"
cat "$log" >>"$history"

# Old per-run logs go; the history keeps their text.
keep=${CANOPY_MONITOR_KEEP_LOGS:-100}
case $keep in ''|*[!0-9]*) keep=100 ;; esac
[ "$keep" -ge 1 ] || keep=1
# shellcheck disable=SC2012
ls -1 "$state/logs" | grep '^monitor-.*\.log$' | sort | head -n "-$keep" |
    while IFS= read -r old; do rm -f "$state/logs/$old"; done

case $rc in
    0|3) exit 0 ;;
    *) echo "canopy monitor failed with exit status $rc; this run's log ($log):" >&2
       cat "$log" >&2
       exit "$rc" ;;
esac
