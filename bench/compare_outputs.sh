#!/usr/bin/env bash
# Compares the complete output (stdout, stderr, exit status) of `validate` and `list`, as
# text and JSON, of two pvenotify binaries on the benchmark configurations at full size:
# 10,000 matchers (full profile, clean and with 500 damaged lines) and 30,000 matchers (full profile).
# tests/bench_outputs.rs does the same on small configurations against recorded outputs;
# this is the check at the sizes of the benchmark, too large to record in the repository.
#
# Usage: bench/compare_outputs.sh BEFORE-BINARY AFTER-BINARY
# Prints one line per comparison and exits 1 if any output differs.
set -euo pipefail
(($# == 2)) || { echo "usage: $0 BEFORE-BINARY AFTER-BINARY" >&2; exit 64; }
before=$1 after=$2
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

gen() { python3 "$bench_dir/gen_config.py" --out "$work/$1" "${@:2}"; }
gen full-10k --profile full --matchers 10000 --targets 1000
gen faults-10k --profile full --matchers 10000 --targets 1000 --faults 500
gen full-30k --profile full --matchers 30000 --targets 1000

status=0
for config in full-10k faults-10k full-30k; do
    for format in text json; do
        for command in validate list; do
            for side in before after; do
                bin=$before
                [[ $side == after ]] && bin=$after
                rc=0
                env -i TZ=UTC "$bin" --hostname pve1 --sendmail /bin/true \
                    --config-dir "$work/$config" --output-format "$format" "$command" \
                    >"$work/$side.out" 2>"$work/$side.err" </dev/null || rc=$?
                echo "exit $rc" >>"$work/$side.out"
            done
            lines=$(wc -l <"$work/before.out")
            if cmp -s "$work/before.out" "$work/after.out" && cmp -s "$work/before.err" "$work/after.err"; then
                echo "same       $config $command --output-format $format ($lines lines)"
            else
                echo "DIFFERENT  $config $command --output-format $format"
                diff "$work/before.out" "$work/after.out" | head -5 || true
                status=1
            fi
        done
    done
done
exit $status
