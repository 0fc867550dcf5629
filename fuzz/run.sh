#!/usr/bin/env bash
# Runs one fuzz target for a while: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
# Stable Rust is enough: `-s none` asks for no sanitizer, so cargo-fuzz
# passes no nightly-only flag and RUSTC_BOOTSTRAP is not needed.
# sql_readonly is built with SQLite itself instrumented too (clang, into its
# own target dir), so the fuzzer sees which paths of SQLite's parser and
# authorizer calls a statement reaches; without clang it falls back to
# instrumenting the Rust code only.
#
# -jobs=1 runs the fuzzer as one child process whose output goes to
# fuzz-0.log, kept afterwards as fuzz-TARGET.log; its final stats are
# printed to stdout too.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))

here=$PWD
opts=(-s none)
flags=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1 -workers=1 -jobs=1)
env=()
case $target in
  parse_price) flags+=(-dict="$here/price.dict") ;;
  sql_readonly)
    flags+=(-dict="$here/sql.dict")
    if command -v clang >/dev/null; then
      env+=(CC=clang "CFLAGS=-fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp")
      opts+=(--target-dir target/sqlite-cov)
    fi
    ;;
esac
mkdir -p "corpus/$target"
dirs=("$here/corpus/$target")
[ -d "seeds/$target" ] && dirs+=("$here/seeds/$target")

rm -f fuzz-0.log
set +e
env ${env[@]+"${env[@]}"} nice -n 10 cargo fuzz run "${opts[@]}" "$target" "${dirs[@]}" -- "${flags[@]}" "$@"
rc=$?
set -e
[ -f fuzz-0.log ] && mv fuzz-0.log "fuzz-$target.log"
exit $rc
