#!/usr/bin/env bash
# engine.cli.manual: the manual page and the bash completion that `ilk
# --generate` writes cover the command line --help shows, and work.
#
#   manual.sh <ilk binary> <build doc dir>
#
# - the built ilk.1.gz and ilk.bash are what the binary writes now;
# - man(1) renders the page without a warning (lintian's check);
# - every subcommand and every option --help lists, at every level, is in the
#   rendered page, and is offered by the completion after that subcommand;
# - the completion completes subcommands, options, an option's choices, and
#   strategy names (from ilk list strategies --names); hidden ones are not offered.
set -euo pipefail
me="engine.cli.manual"
fail() { echo "$me: FAIL: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || fail "usage: $0 <ilk binary> <build doc dir>"
ilk=$1 doc=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ilk-manual.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$ilk" --generate man >"$work/ilk.1"
"$ilk" --generate bash-completion >"$work/ilk.bash"
zcat "$doc/ilk.1.gz" | cmp -s - "$work/ilk.1" || fail "$doc/ilk.1.gz is not what '$ilk --generate man' writes now: rebuild"
cmp -s "$doc/ilk.bash" "$work/ilk.bash" || fail "$doc/ilk.bash is not what '$ilk --generate bash-completion' writes now: rebuild"
! "$ilk" --generate html >/dev/null 2>&1 || fail "--generate html was accepted"

# --- the page renders, without warnings --------------------------------------
if command -v man >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$work/ilk.1" 2>&1 >/dev/null) ||
        fail "man could not render the page: $warnings"
    [[ -z $warnings ]] || fail "man warns about the page: $warnings"
    MANWIDTH=200 man -l "$work/ilk.1" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g' >"$work/page.txt"
else
    echo "$me: man(1) is not installed (man-db): the page is checked as roff source only"
    sed 's/\\-/-/g; s/\\f[BIR]//g' "$work/ilk.1" >"$work/page.txt"
fi
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" ENVIRONMENT FILES; do
    grep -q "^$section\$\|^\.SH $section\$" "$work/page.txt" || fail "the page has no $section section"
done

# --- the completion, driven as bash drives it ---------------------------------
# shellcheck disable=SC1091
source "$work/ilk.bash"
complete_words() {  # complete_words WORD... : what _ilk offers for the last word
    COMP_WORDS=("$ilk" "$@")
    COMP_CWORD=$#
    COMPREPLY=()
    _ilk
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {  # expect "WANT" WORD...
    local want=$1; shift
    local got; got=$(complete_words "$@")
    [[ $got == "$want" ]] || fail "completing 'ilk $*': '$got', expected '$want'"
}
expect "replay run" r
expect "clean" c  # not the hidden contender
expect "scenarios strategies" list s
expect "--default --help --names" list targets --
expect "--schedule" run --sch
expect "pct" run --schedule p
expect "json junit" run --format j
expect "" run --seed ""
strategies=$(complete_words run --strategy lifetime-fl)
[[ " $strategies " == *" lifetime-flock "* && " $strategies " == *" lifetime-flock-dir "* ]] ||
    fail "completing 'ilk run --strategy lifetime-fl': '$strategies', expected lifetime-flock and lifetime-flock-dir"

# --- every command and option of --help is in the page and the completion -----
# --help's own listing: "Subcommands:" entries and "-x,--long" option names.
checked=0
walk() {  # walk WORD... : a command path
    local help; help=$("$ilk" "$@" --help)
    local opts subs
    opts=$(sed -n '/^Options:/,/^$/p' <<<"$help" | grep -oE '^  (-[A-Za-z],)?--[a-z][a-z-]*' | sed 's/^ *//' | tr ',' '\n' || true)
    subs=$(sed -n '/^Subcommands:/,/^$/p' <<<"$help" | grep -oE '^  [a-z][a-z-]*' | sed 's/^ *//' || true)
    local offered; offered=" $(complete_words "$@" -) "
    local page_head="ilk${*:+ $*}"
    if [[ $# -gt 0 ]]; then
        grep -qF "$page_head" "$work/page.txt" || fail "the page has no entry for '$page_head'"
    fi
    for o in $opts; do
        [[ $o == -h || $o == --help ]] && continue
        [[ $offered == *" $o "* ]] || fail "'ilk $* $o' (in --help) is not offered by the completion after 'ilk $*'"
        grep -qE -- "(^| |,)$o( |,|$)" "$work/page.txt" || fail "'ilk $* $o' (in --help) is not in the page"
        checked=$((checked + 1))
    done
    local all_subs; all_subs=" $(complete_words "$@" "") "
    for s in $subs; do
        [[ $all_subs == *" $s "* ]] || fail "subcommand '$s' of 'ilk $*' is not offered by the completion"
        walk "$@" "$s"
    done
}
walk
[[ $checked -ge 60 ]] || fail "only $checked options were found in --help: the check read nothing"
echo "$me: PASS: $checked options of every subcommand in the page and the completion"
