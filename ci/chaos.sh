#!/usr/bin/env bash
# Chaos: SIGKILL `ilk run` at random moments, then `ilk clean`, N times; after
# each round nothing the kit made may be left on this machine. One round in
# three sends SIGTERM instead (a CI job cancelled, systemd stopping it): then
# the kit must end by itself within 60 s, and leave nothing before any clean. Prints one line
# a round and the count of clean rounds; exit 1 if any round left something.
#
#   ci/chaos.sh [N] [--seed S] [--build DIR] [--max-ms MS] [--no-clean]
#
# Each round draws from the seed (so a failing round can be replayed with the
# same seed) what it runs and when it is killed:
#   targets  the main job's kit-made targets (tmpfs, ext4, xfs, btrfs, fuse,
#            overlayfs, ... : mounts, loop devices, hugetlbfs, the overcommit
#            sysctl, SysV segments, contenders)
#   server   a real server (postgresql-15 or mariadb-10.11, when installed) on
#            tmpfs: the server's processes, its backends, its segment
# a signal (SIGKILL, or SIGTERM one round in three) and a time in [200, MS] ms
# (default 15000). What is checked after `ilk clean` (after a SIGTERM: before
# it; every round against the state before it):
#   - no process whose program is the kit's, none of the user ilk-server
#     (zombies aside: they hold nothing, and are their adopter's to reap);
#   - no mount and no loop device under the round's TMPDIR;
#   - no SysV segment that was not there before;
#   - vm.nr_overcommit_hugepages as before;
#   - no scratch directory (TMPDIR/ilk-*) and no journal left.
# --no-clean skips the `ilk clean` that is checked (it runs after the check),
# and every round SIGKILLs: each round then shows what the check catches, and
# the script exits 1.
# Root only (the kit-made targets mount); without root it says so and exits 77.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=10 seed=$RANDOM build=build max_ms=15000 clean_first=yes
while [ $# -gt 0 ]; do
  case $1 in
    --seed) seed=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --max-ms) max_ms=$2; shift 2 ;;
    --no-clean) clean_first=no; shift ;;
    [0-9]*) rounds=$1; shift ;;
    *) echo "ci/chaos.sh: unknown argument '$1'; usage: ci/chaos.sh [N] [--seed S] [--build DIR] [--max-ms MS] [--no-clean]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "chaos: skipped: needs root (the kit-made targets mount file systems)"; exit 77; }
ilk=$(cd "$build" && pwd)/bin/ilk
[ -x "$ilk" ] || { echo "chaos: $ilk is missing; build first (cmake --build $build)" >&2; exit 2; }

work=$(mktemp -d /dev/shm/ilk-chaos.XXXXXX)
chmod 755 "$work"  # a real server's user reaches its data directories in there
state=$work/state
mkdir -m 700 "$state"
trap 'ILK_STATE_DIR=$state "$ilk" clean >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

servers=()
[ -x /usr/lib/postgresql/15/bin/postgres ] && getent passwd ilk-server >/dev/null && servers+=(postgresql-15)
[ -x /usr/sbin/mariadbd ] && getent passwd ilk-server >/dev/null && servers+=(mariadb-10.11)
server_uid=$(id -u ilk-server 2>/dev/null || echo none)
overcommit=/proc/sys/vm/nr_overcommit_hugepages

segments() { awk 'NR > 1 {print $2}' /proc/sysvipc/shm | sort; }
kit_processes() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [ "$exe" = "$ilk" ] && echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-80)"
  done
  # A zombie is left out: it holds nothing, and it is whoever adopted the
  # killed kit's orphans (PID 1, a subreaper) that reaps it, in its own time.
  [ "$server_uid" = none ] || ps -o pid=,stat=,args= -u "$server_uid" 2>/dev/null | awk '$2 !~ /Z/' || true
}
# What a round left, one line each (empty: nothing).
leftovers() {
  local round_dir=$1 before_segments=$2 before_overcommit=$3
  kit_processes | sed 's/^/process /'
  awk -v d="$round_dir/" 'index($2, d) == 1 {print "mount " $2 " (" $3 ")"}' /proc/self/mounts
  losetup -a -O NAME,BACK-FILE -n 2>/dev/null | awk -v d="$round_dir/" 'index($2, d) == 1 {print "loop device " $1 " on " $2}'
  comm -13 <(echo "$before_segments") <(segments) | sed 's/^/SysV segment shmid /'
  [ ! -r $overcommit ] || [ "$(cat $overcommit)" = "$before_overcommit" ] || echo "vm.nr_overcommit_hugepages is $(cat $overcommit), was $before_overcommit"
  find "$round_dir" -mindepth 1 -maxdepth 1 -name 'ilk-*' -printf 'scratch directory %p\n' 2>/dev/null
  [ ! -d "$state" ] || find "$state" -name 'run-*.journal' -printf 'journal %p\n'
  true
}

echo "chaos: $rounds rounds, seed $seed, signals in [200, $max_ms] ms, servers: ${servers[*]:-none installed}"
RANDOM=$seed
clean=0 t0=$(date +%s)
for round in $(seq 1 "$rounds"); do
  kill_ms=$(( 200 + (RANDOM * 32768 + RANDOM) % (max_ms - 199) ))
  sig=KILL
  [ $((RANDOM % 3)) -ne 0 ] || sig=TERM
  [ $clean_first = yes ] || sig=KILL  # --no-clean shows what a missing clean leaves: a SIGKILLed kit's
  what=targets
  if [ ${#servers[@]} -gt 0 ] && [ $((RANDOM % 3)) -eq 0 ]; then what=${servers[$((RANDOM % ${#servers[@]}))]}; fi
  round_dir=$work/round-$round
  mkdir -m 755 "$round_dir"
  before_segments=$(segments)
  before_overcommit=$(cat $overcommit 2>/dev/null || echo -)
  if [ "$what" = targets ]; then
    args=(run --jobs 2)
  else
    args=(run --target tmpfs --jobs 1 --strategy "$what" --server-trials 50)
  fi
  ILK_STATE_DIR=$state TMPDIR=$round_dir "$ilk" "${args[@]}" -q --format json --report-dir "$round_dir/report" \
    >/dev/null 2>"$round_dir/run.err" &
  kit=$!
  sleep "$(awk -v ms="$kill_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  late=""
  if [ "$(awk '{print $3}' "/proc/$kit/stat" 2>/dev/null)" = Z ] || ! kill -s "$sig" "$kit" 2>/dev/null; then
    ended="ended by itself before $kill_ms ms"
  elif [ "$sig" = KILL ]; then
    ended="killed at $kill_ms ms"
  else
    ended="SIGTERM at $kill_ms ms"
    for _ in $(seq 600); do [ "$(awk '{print $3}' "/proc/$kit/stat" 2>/dev/null)" != Z ] && kill -0 "$kit" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$kit" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$kit/stat" 2>/dev/null)" != Z ]; then
      late="the kit did not end within 60 s of SIGTERM"
      kill -9 "$kit" 2>/dev/null || true
    fi
  fi
  rc=0
  { wait "$kit"; } 2>/dev/null || rc=$?
  # A kit that ended before its signal says why: its exit code, and its last
  # words when it failed (a server that could not even be initialised, say).
  if [ "${ended#ended by itself}" != "$ended" ]; then
    ended="$ended (exit $rc)"
    [ "$rc" -eq 0 ] || ended="$ended: $(grep -v '^ *$' "$round_dir/run.err" | tail -1 | cut -c1-200)"
  fi
  undone=0
  # After SIGTERM the kit cleans up itself: what is left is checked before any clean.
  if [ "$sig" = TERM ] && [ -z "$late" ]; then
    left=$(leftovers "$round_dir" "$before_segments" "$before_overcommit")
    [ -z "$left" ] || left="$(sed 's/$/ (after SIGTERM, before ilk clean)/' <<<"$left")"
    [ $clean_first = no ] || ILK_STATE_DIR=$state "$ilk" clean >/dev/null 2>&1 || true
  else
    [ $clean_first = no ] || undone=$(ILK_STATE_DIR=$state "$ilk" clean 2>&1 | grep -c 'killed\|removed\|unmounted\|detached\|restored\|lowered' || true)
    left=$(leftovers "$round_dir" "$before_segments" "$before_overcommit")
  fi
  [ -z "$late" ] || left=$(printf '%s\n%s' "$late" "$left")
  if [ -z "$left" ]; then
    clean=$((clean + 1))
    echo "round $round: $what, $ended; ilk clean undid $undone; nothing left"
  else
    echo "round $round: $what, $ended; ilk clean undid $undone; LEFT:"
    sed 's/^/    /' <<<"$left"
    # Do not let one round's leftovers spoil the next: the kit's clean again, then by hand.
    ILK_STATE_DIR=$state "$ilk" clean >/dev/null 2>&1 || true
  fi
  rm -rf "$round_dir/report" "$round_dir/run.err"
  rmdir "$round_dir" 2>/dev/null || true
done
echo "chaos: $clean of $rounds rounds clean (seed $seed, $(( $(date +%s) - t0 )) s)"
[ "$clean" -eq "$rounds" ]
