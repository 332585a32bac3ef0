#!/usr/bin/env bash
# ilk replay of a counterexample file from elsewhere: what the file says is
# data. A file whose strategy differs from its definition here (a command of
# its own, a server program, a lock file outside the data directory), that
# names a strategy defined nowhere here, or a variant its scenario lacks, is
# refused with exit 2, and nothing it names runs. The control: the same file
# replayed where its strategy is the operator's own (ILK_STRATEGY_PATH) runs
# the command, so the witness file does show a run.
# Usage: replay_foreign.sh ILK SOURCE_DIR
set -u
ilk=$1 src=$2
d=$(mktemp -d /dev/shm/ilk-replay-XXXXXX)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir "$d/strategies" "$d/target"
cat > "$d/strategies/witness.toml" <<EOF
[[strategy]]
name = "witness"
template = "command"
summary = "no interlock at all: a program that leaves a witness file and sleeps"
source = "tests/engine/replay_foreign.sh"
command = ["sh", "-c", "touch $d/witness; exec sleep 30"]
EOF
own="$d/strategies:$src/strategies"
ILK_STRATEGY_PATH=$own "$ilk" run --strategy witness --scenario concurrent-start --target "$d/target" \
    --report-dir "$d/report" --counterexample-dir "$d/cx" -q > "$d/run.log" 2>&1
cx=$(ls "$d"/cx/witness--concurrent-start--*.json 2>/dev/null | head -1)
[ -n "$cx" ] || { cat "$d/run.log"; fail "no counterexample for the witness strategy"; }

# The control: defined here, the file's strategy runs.
rm -f "$d/witness"
ILK_STRATEGY_PATH=$own "$ilk" replay "$cx" > "$d/out" 2>&1 || { cat "$d/out"; fail "the control replay failed"; }
[ -e "$d/witness" ] || fail "the control replay did not run the command: the witness would prove nothing"
echo "control: replayed where witness is defined, the command ran"

refused() {  # NAME EXPECTED-TEXT FILE [ENV...]
    local name=$1 expect=$2 file=$3; shift 3
    rm -f "$d/witness"
    env "$@" "$ilk" replay "$file" > "$d/out" 2>&1
    local rc=$?
    [ $rc = 2 ] || { cat "$d/out"; fail "$name: exit $rc, not 2"; }
    grep -q -- "$expect" "$d/out" || { cat "$d/out"; fail "$name: no '$expect'"; }
    [ ! -e "$d/witness" ] || fail "$name: the file's command ran"
    [ ! -e "$d/escape" ] || fail "$name: a file outside the data directory appeared"
    echo "refused: $name: $(head -1 "$d/out" | sed "s|$d|D|g")"
}
edit() {  # OUT PYTHON-STATEMENTS on j
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); $2; json.dump(j, open(sys.argv[2], 'w'))" "$cx" "$1"
}
refused "a strategy defined nowhere here" "is defined in no strategy or server file here" "$cx" ILK_STRATEGY_PATH="$src/strategies"
edit "$d/as-legacy.json" "j['strategy']['name'] = 'legacy-pid'"
refused "a command under another strategy's name" "differs from its definition here" "$d/as-legacy.json" ILK_STRATEGY_PATH="$own"
edit "$d/lock.json" "j['strategy'] = dict(j['strategy'], name='legacy-pid', template='legacy-pid', command=[], lock_file='../../escape')"
refused "a lock file outside the data directory" "in lock_file" "$d/lock.json" ILK_STRATEGY_PATH="$own"
edit "$d/server.json" "j['strategy']['server'] = {'name': 'witness', 'start': ['sh', '-c', 'touch $d/witness']}"
refused "a server program of the file's" "in server" "$d/server.json" ILK_STRATEGY_PATH="$own"
edit "$d/variant.json" "j['variant'] = '100000'"
refused "a variant of 100000 starters" "has no variant '100000'" "$d/variant.json" ILK_STRATEGY_PATH="$own"
echo "PASS: a foreign counterexample runs nothing of its own"
