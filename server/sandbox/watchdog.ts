/**
 * A POSIX shell wrapper that runs DynamoDB Local's JVM so it never outlives the Node process that
 * started it. The wrapper leads its own process group (spawned detached), so stopping the sandbox
 * signals the whole group. Its stdin is a pipe whose write end only the parent holds: when the
 * parent dies, even by SIGKILL when no handler of ours runs, the kernel closes that end, `read`
 * sees EOF, and the wrapper stops the JVM (SIGTERM, then SIGKILL after 5 s).
 *
 * Usage: sh -c WATCHDOG_SCRIPT sh <java> <args…>
 */
export const WATCHDOG_SCRIPT = `
exec 3<&0 0</dev/null
"$@" 3<&- &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
(
  pause=
  trap 'kill "$pause" 2>/dev/null; wait; exit 0' TERM
  while read -r _ <&3; do :; done
  kill -TERM "$child" 2>/dev/null
  sleep 5 & pause=$!
  wait "$pause"
  kill -KILL "$child" 2>/dev/null
) &
watcher=$!
exec 3<&-
while :; do
  wait "$child"; rc=$?
  kill -0 "$child" 2>/dev/null || break
done
kill -TERM "$watcher" 2>/dev/null
wait "$watcher"
exit "$rc"
`;
