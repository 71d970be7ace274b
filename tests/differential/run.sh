#!/usr/bin/env bash
# Differential test: our `fzc` against the reference funz-fz 1.2 `fzc`.
#
# Usage: bash tests/differential/run.sh [CASE...]    (default: all cases)
#
# Every directory under tests/differential/cases/ is one case. Its case.sh
# (sourced by bash) sets
#   input=<file or directory, relative to the case directory>
#   args=(<fzc arguments other than the input and -o>)
#   ignore=(<optional: globs of output paths not compared, each with a
#            comment pointing to the documented intentional difference>)
#   expect_rc=<optional: our exit code when it differs from funz-fz's on
#            purpose, with a comment pointing to the documented difference>
# and starts with a comment saying what the case covers.
#
# Both implementations run on their own scratch copy of the case directory
# (which is their working directory) and compile into separate output
# directories under target/differential/<case>/. The two trees must have the
# same directories and files, and every file must be byte-identical, except
# `.fz_hash` of a directory input, whose lines are compared as a set (file
# walk order is file-system dependent). The exit codes must be equal (or
# ours must be the case's expect_rc).
# Standard output is not compared (funz-fz prints its warnings there).
#
# The reference is installed with pip into target/upstream-venv (see
# scripts/upstream-fz.sh); if that is impossible the test prints a
# "SKIPPED: ..." line and exits 0. Environment overrides:
#   FZ_BIN_DIR           directory with our fzc (skips the cargo build)
#   FZ_UPSTREAM_BIN_DIR  directory with funz-fz 1.2's fzc (skips pip)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cases_dir=$root/tests/differential/cases
work=${CARGO_TARGET_DIR:-$root/target}/differential

mkdir -p "$work"
if ! upstream_bin=$("$root/scripts/upstream-fz.sh" 2>"$work/upstream-install.log"); then
    reason=$(tr '\n' ' ' <"$work/upstream-install.log")
    echo "======================================================================"
    echo "SKIPPED: differential test against funz-fz 1.2: ${reason:-unknown reason}"
    echo "======================================================================"
    exit 0
fi
# Debug build: shares its artifacts with `cargo test`.
ours_bin=$("$root/scripts/fz-bindir.sh" debug)
echo "differential: reference $upstream_bin/fzc ($("$upstream_bin/fzc" --version))"
echo "differential: ours      $ours_bin/fzc"

if [[ $# -gt 0 ]]; then
    names=("$@")
else
    names=()
    for d in "$cases_dir"/*/; do
        d=${d%/}
        names+=("${d##*/}")
    done
fi

# Run one implementation on one case.
#   $1 = label (upstream|ours), $2 = bin dir, $3 = case name
# Leaves <work>/<case>/<label>/{src,out,stdout,stderr,rc}.
run_one() {
    local label=$1 bin=$2 name=$3
    local base=$work/$name/$label
    rm -rf "$base"
    mkdir -p "$base"
    cp -a "$cases_dir/$name" "$base/src"
    local rc=0
    (
        cd "$base/src"
        # shellcheck disable=SC1090,SC1091
        source ./case.sh
        exec "$bin/fzc" "$input" "${args[@]}" -o "$base/out"
    ) >"$base/stdout" 2>"$base/stderr" </dev/null || rc=$?
    echo "$rc" >"$base/rc"
}

# List the entries of a tree, one relative path per line, with a type tag.
list_tree() {
    (cd "$1" && find . -mindepth 1 \( -type d -printf 'dir  %P\n' \) -o \( -type f -printf 'file %P\n' \) \
        -o -printf 'other %P\n') | LC_ALL=C sort
}

is_ignored() { # $1 = relative path; uses global array ignore
    local pat
    for pat in "${ignore[@]}"; do
        # shellcheck disable=SC2053
        [[ $1 == $pat ]] && return 0
    done
    return 1
}

# Compare the outputs of a case; print the differences, return 1 if any.
compare_case() {
    local name=$1
    local up=$work/$name/upstream ours=$work/$name/ours
    local input args=() ignore=() expect_rc=""
    # shellcheck disable=SC1090,SC1091
    source "$cases_dir/$name/case.sh"
    local is_dir=0
    [[ -d $cases_dir/$name/$input ]] && is_dir=1
    local ok=0

    local rc_up rc_ours want_rc
    rc_up=$(cat "$up/rc")
    rc_ours=$(cat "$ours/rc")
    want_rc=${expect_rc:-$rc_up}
    if [[ $want_rc != "$rc_ours" ]]; then
        echo "  exit code: funz-fz $rc_up, ours $rc_ours"
        ok=1
    fi
    if [[ $rc_up != 0 ]]; then
        echo "  note: funz-fz exited $rc_up; its stderr:"
        sed 's/^/    | /' "$up/stderr" | tail -n 20
    fi
    if [[ $rc_ours != 0 && $rc_ours != "$want_rc" ]]; then
        echo "  our stderr:"
        sed 's/^/    | /' "$ours/stderr" | tail -n 20
    fi
    if [[ ! -d $up/out && ! -d $ours/out ]]; then
        return $ok
    fi
    mkdir -p "$up/out" "$ours/out"

    local tree_diff
    if ! tree_diff=$(diff -u --label "funz-fz 1.2" --label "ours" \
        <(list_tree "$up/out" | grep -v -F -x -f <(ignored_entries "$up/out") || true) \
        <(list_tree "$ours/out" | grep -v -F -x -f <(ignored_entries "$ours/out") || true)); then
        echo "  the output trees differ (dir/file listing):"
        printf '%s\n' "$tree_diff" | head -n 60 | sed 's/^/    /'
        ok=1
    fi

    local kind rel a b
    while read -r kind rel; do
        [[ $kind == file ]] || continue
        is_ignored "$rel" && continue
        a=$up/out/$rel
        b=$ours/out/$rel
        [[ -f $b ]] || continue # already reported by the listing
        if [[ $is_dir == 1 && ${rel##*/} == .fz_hash ]]; then
            if ! cmp -s <(LC_ALL=C sort "$a") <(LC_ALL=C sort "$b"); then
                echo "  $rel differs (lines compared as a set, sorted here):"
                diff -u --label "funz-fz 1.2" --label "ours" \
                    <(LC_ALL=C sort "$a") <(LC_ALL=C sort "$b") | head -n 40 | sed 's/^/    /' || true
                ok=1
            fi
        elif ! cmp -s "$a" "$b"; then
            ok=1
            if grep -qI . "$a" 2>/dev/null || [[ ! -s $a ]]; then
                echo "  $rel differs:"
                diff -u --label "funz-fz 1.2: $rel" --label "ours: $rel" "$a" "$b" |
                    head -n 40 | cat -v | sed 's/^/    /' || true
            else
                echo "  $rel (binary) differs:"
                cmp -l "$a" "$b" 2>&1 | head -n 10 | sed 's/^/    /' || true
            fi
        fi
    done < <(list_tree "$up/out")
    return $ok
}

ignored_entries() { # entries of tree $1 matching the case's ignore globs
    local kind rel
    while read -r kind rel; do
        if is_ignored "$rel"; then
            printf '%s %s\n' "$kind" "$rel"
        fi
    done < <(list_tree "$1")
    # grep -f with an empty pattern file matches nothing, as wanted
}

passed=0
failed=0
failed_names=()
for name in "${names[@]}"; do
    if [[ ! -f $cases_dir/$name/case.sh ]]; then
        echo "differential: no such case: $name" >&2
        exit 2
    fi
    run_one upstream "$upstream_bin" "$name"
    run_one ours "$ours_bin" "$name"
    if report=$(compare_case "$name" 2>&1); then
        echo "ok    $name"
        passed=$((passed + 1))
    else
        echo "FAIL  $name  (outputs in ${work#"$root"/}/$name/)"
        printf '%s\n' "$report"
        failed=$((failed + 1))
        failed_names+=("$name")
    fi
done

echo "differential: $passed passed, $failed failed"
if [[ $failed -gt 0 ]]; then
    echo "differential: failing cases: ${failed_names[*]}" >&2
    exit 1
fi
