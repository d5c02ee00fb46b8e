#!/usr/bin/env bash
# Lists and kills every process whose environment holds NAME=VALUE (given as one argument): what a test run left
# running. SIGTERM first, SIGKILL after 3 s. Prints one line per process, or nothing. Exit 0 either way.
# Run it without the variable in its own environment (env -u NAME), or it finds itself.
set -uo pipefail
entry="${1:?usage: sweepMarked.sh NAME=VALUE}"

marked() {
  # environ holds one NUL-terminated entry per variable: -z reads entries, -x matches a whole one.
  grep -lzxF -- "$entry" /proc/[0-9]*/environ 2>/dev/null | while IFS=/ read -r _ _ pid _; do
    [[ "$pid" == "$$" ]] || echo "$pid"
  done
}

left=$(marked)
[[ -z "$left" ]] && exit 0
echo "sweep: still running with ${entry%%=*} set; killing them:"
for pid in $left; do
  printf '  %s\n' "$(ps -o pid=,etime=,args= -p "$pid" 2>/dev/null | cut -c1-200)"
done
kill -TERM $left 2>/dev/null
for _ in $(seq 30); do
  left=$(marked)
  [[ -z "$left" ]] && exit 0
  sleep 0.1
done
kill -KILL $left 2>/dev/null
exit 0
