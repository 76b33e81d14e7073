#!/usr/bin/env bash
# dst.planted_race: the fault campaign finds the console's planted restart race
# (examples/console/console_server.cpp, loaded by ukernel-dst --planted), shrinks its fault
# schedule to a smaller one that still fails, and the one-line command it prints replays the
# shrunk run bit-exactly in a fresh process (another ASLR layout): the same trace hash, the same
# transcript hash. The system's own console passes the same schedule.
#
#   planted_race.sh UKERNEL_DST [SEEDS]
set -euo pipefail
dst=$1
seeds=${2:-40}
fail() {
  echo "planted_race: FAIL: $*" >&2
  exit 1
}

echo "\$ $dst --planted --first --seeds 1..$seeds"
out=$("$dst" --planted --first --seeds "1..$seeds") && fail "the campaign found nothing in $seeds seeds"
echo "$out"

# Found.
found=$(grep -m1 '^FAIL seed ' <<<"$out") || fail "no failing seed in the output"
grep -q 'answered twice' <<<"$found" || fail "the failure is not the planted one: $found"
seed=$(sed -E 's/^FAIL seed ([0-9]+):.*/\1/' <<<"$found")

# Shrunk: fewer faults, and the shrunk schedule still fails.
shrunk=$(grep -m1 '^shrunk to ' <<<"$out") || fail "no shrinking"
read -r kept total <<<"$(sed -E 's/^shrunk to ([0-9]+) of ([0-9]+) faults.*/\1 \2/' <<<"$shrunk")"
((kept >= 1 && kept < total)) || fail "shrunk to $kept of $total faults"
grep -q 'answered twice' <<<"$shrunk" || fail "the shrunk schedule does not fail the same way: $shrunk"
shrunk_hashes=$(grep -A1 '^shrunk to ' <<<"$out" | tail -1)
[[ $shrunk_hashes == trace\ * ]] || fail "no hashes after the shrunk run"

# Replayed, in a new process, from the printed command.
replay=$(grep '^replay: ' <<<"$out" | tail -1 | sed -E 's/^replay: //; s/   \(build:.*$//')
[[ $replay == *"--planted --seed $seed --schedule "* ]] || fail "unexpected replay line: $replay"
echo "\$ $replay"
again=$(eval "$replay") && fail "the replay did not fail"
echo "$again"
grep -q '^FAIL: .*answered twice' <<<"$again" || fail "the replay failed differently"
replay_hashes=$(grep '^trace ' <<<"$again")
[[ $replay_hashes == "$shrunk_hashes" ]] ||
  fail "the replay is not bit-exact: '$replay_hashes' after '$shrunk_hashes'"

# The bug is the planted image's: the system's own console survives the same faults.
schedule=$(sed -E "s/.*--schedule '([^']*)'.*/\1/" <<<"$replay")
echo "\$ $dst --seed $seed --schedule '$schedule'"
"$dst" --seed "$seed" --schedule "$schedule" | tail -2 || fail "the system's own console fails too"
echo "planted_race: found at seed $seed, shrunk to $kept of $total faults, replayed bit-exactly"
