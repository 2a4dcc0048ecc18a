#!/usr/bin/env bash
# Runs a command while one host core (or $LOAD_CPUS) is kept busy, to prove
# that the tests wait for events rather than for fixed times:
#
#   scripts/with-load.sh make test
#
# The busy loops are plain shell (nothing to install) and end with the
# command, whatever its outcome.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 command [args...]" >&2; exit 2; }

hogs=()
stop_hogs() {
	[ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null || true
}
trap stop_hogs EXIT
for _ in $(seq "${LOAD_CPUS:-1}"); do
	(while :; do :; done) &
	hogs+=($!)
done
echo "with-load: ${#hogs[@]} busy loop(s) running beside: $*" >&2
"$@"
