#!/usr/bin/env bash
# Shrinks corpus/parse_activity/ to the hand-written seeds (seed-*, interuss-*)
# plus the fewest other inputs that cover every code edge the whole corpus covers
# (libFuzzer's set-cover merge, edge coverage only). Run from fuzz/ after fuzzing.
set -euo pipefail
cd "$(dirname "$0")"
RUSTC_BOOTSTRAP=1 cargo fuzz build parse_activity
bin=target/x86_64-unknown-linux-gnu/release/parse_activity
out=$(mktemp -d)
cp corpus/parse_activity/seed-* corpus/parse_activity/interuss-* "$out"/
"$bin" -set_cover_merge=1 -use_counters=0 -max_len=4096 "$out" corpus/parse_activity 2>&1 | tail -1
rm -r corpus/parse_activity
mv "$out" corpus/parse_activity
chmod 755 corpus/parse_activity
echo "$(ls corpus/parse_activity | wc -l) files, $(du -sb corpus/parse_activity | cut -f1) bytes"
