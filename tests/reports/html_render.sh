#!/usr/bin/env bash
# reports.html.chromium: the HTML report as a real browser shows it.
#
#   html_render.sh <write_sample_html binary> <scratch dir>
#
# Writes the merged sample report, has headless Chromium parse and render it
# (--dump-dom: the DOM it built; --screenshot: a PNG), and checks what the
# DOM holds: the matrix cells with their verdicts, the CONFLICT cell, the
# deviation row, and the hostile sample strings as text, not markup. The PNG
# (kept in the scratch dir, to look at) must not be blank. Then the hostile
# sample (a script in every string from outside: hostile_matrix): the browser
# runs none of them, builds no element of theirs, shows each as text, and the
# page still renders its matrix. Exits 77 (CTest: skipped) with the reason
# when chromium is not installed.
set -uo pipefail

me="reports.html.chromium"
fail() {
    echo "$me: FAIL: $*" >&2
    exit 1
}

[[ $# -eq 2 ]] || fail "usage: $0 <write_sample_html binary> <scratch dir>"
generator=$1
scratch=$2
if ! command -v chromium >/dev/null; then
    echo "$me: SKIP: chromium is not installed: apt-get install chromium"
    exit 77
fi
[[ -x $generator ]] || fail "$generator is not an executable: build the write_sample_html target"
mkdir -p "$scratch" || fail "cannot create $scratch"
scratch=$(cd "$scratch" && pwd -P)
html=$scratch/report.html dom=$scratch/dom.html png=$scratch/report.png log=$scratch/chromium.log
rm -f "$html" "$dom" "$png" "$log"
profile=$(mktemp -d "$scratch/chromium-profile.XXXXXX") || fail "cannot create a profile directory in $scratch"
trap 'rm -rf "$profile"' EXIT

"$generator" "$html" || fail "$generator could not write $html"
hostile=$scratch/hostile.html hostile_dom=$scratch/hostile-dom.html
"$generator" --hostile "$hostile" || fail "$generator could not write $hostile"

# As root Chromium refuses to start without --no-sandbox; the private profile
# keeps it off the user's, and the network switches keep a test from phoning home.
browse() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --hide-scrollbars --window-size=1400,1600 "$@" "file://${page:-$html}" 2>>"$log"
}
browse --dump-dom >"$dom"
rc=$?
[[ $rc -eq 0 ]] || { cat "$log" >&2; fail "chromium --dump-dom exited $rc (124: timed out after 120 s)"; }
browse --screenshot="$png" >>"$log"
rc=$?
[[ $rc -eq 0 ]] || { cat "$log" >&2; fail "chromium --screenshot exited $rc (124: timed out after 120 s)"; }

checks=0
shows() {  # shows <what> <fixed string>: the dumped DOM contains the string
    checks=$((checks + 1))
    grep -qF -- "$2" "$dom" || fail "the page does not show $1 (no '$2' in $dom)"
}
shows_not() {
    checks=$((checks + 1))
    ! grep -qF -- "$2" "$dom" || fail "the page shows $1 ('$2' in $dom)"
}

l61='data-platform="linux 6.1.0-28-amd64"'
l612='data-platform="linux 6.12.9-amd64"'
shows "the host in the title" '<title>ilk matrix: Linux 6.1.0-28-amd64 (host-a)</title>'
shows "the UNSAFE cell" "<td class=\"cell v-UNSAFE\" data-strategy=\"tom-2004\" data-target=\"ext4\" $l61"
shows "the UNSAFE verdict text and its count" '<span class="verdict">UNSAFE</span><span class="count" title="failing scenarios of those judged">1/3</span><span class="deciding">concurrent-stale</span>'
shows "the summary line of a target" '<li class="summary-line">linux 6.1.0-28-amd64:ext4: SAFE: lifetime-flock</li>'
shows "what a strategy fails somewhere" '<tr data-strategy="tom-2004"><th class="strategy">tom-2004</th><td>none</td><td>concurrent-stale</td>'
shows "the grid across targets" '<table class="grid" id="grid-all">'
shows "a grid square linked to its evidence" '<a href="#ev-0-tom-2004-concurrent-stale">UNS</a>'
shows "the evidence the square links to" '<div class="scenario" id="ev-0-tom-2004-concurrent-stale" data-scenario="concurrent-stale">'
shows "a SAFE cell" "<td class=\"cell v-SAFE\" data-strategy=\"lifetime-flock\" data-target=\"tmpfs\" $l61"
shows "the SAFE cell of the other kernel" "<td class=\"cell v-SAFE\" data-strategy=\"tom-2004\" data-target=\"tmpfs\" $l612"
shows "the SAFE verdict text" '<span class="verdict">SAFE</span>'
shows "the UNSUPPORTED cell" "<td class=\"cell v-UNSUPPORTED\" data-strategy=\"pg-current\" data-target=\"ext4\" $l61"
shows "the platform header group" '<th class="platform" data-platform="linux 6.12.9-amd64" colspan="1">'
shows "the CONFLICT cell" "<td class=\"cell conflict\" data-strategy=\"pg-current\" data-target=\"tmpfs\" $l61><div class=\"verdict\">CONFLICT</div>"
shows "the conflicting results' sources" '<span class="origin">host-b (host-b.json)</span>'
shows "the STUCK result inside the conflict" '<span class="tag v-STUCK">STUCK</span>'
shows "the deviation row" '<tr class="fact deviation" data-fact="locks.flock.excludes_other_process" data-outcome="deviation">'
shows "expected vs observed" 'expected <code>true</code>, observed <code>false</code>'
shows "the xfs reason" 'not set up: mkfs.xfs is not installed: apt-get install xfsprogs'
shows "the platform not run" '<tr class="not-run" data-platform="freebsd">'
# Text the browser parsed as text serializes back escaped; as markup it would be an element.
shows "a hostile summary as text" 'PostgreSQL 16-17 &lt;miscinit.c&gt; &amp;'
shows "a hostile transcript line as text" 'deleted &lt;old&gt; &amp;'
shows_not "a hostile string turned into markup" '<miscinit.c>'
shows_not "a hostile string turned into markup" '<old>'
shows_not "a hostile string turned into markup" '<7 delete>'

# Every square of every grid links to an element of the page.
missing=0
for id in $(grep -oE '<a href="#ev-[^"]*"' "$dom" | sed 's/.*#//; s/"$//' | sort -u); do
    grep -qF "id=\"$id\"" "$dom" || { echo "no element with id $id" >&2; missing=$((missing + 1)); }
done
[[ $missing -eq 0 ]] || fail "$missing grid square(s) link to nothing"
squares=$(grep -oE '<td class="sq [^"]*"' "$dom" | wc -l)
[[ $squares -gt 0 ]] || fail "no grid squares"
cells=$(grep -oE '<td class="cell [^"]*"' "$dom" | wc -l)
[[ $cells -eq 13 ]] || fail "expected 13 matrix cells (3 strategies x 5 columns, xfs as one not-set-up cell; 12 + 1), saw $cells"

[[ -s $png ]] || fail "no screenshot at $png"
size=$(stat -c %s "$png")
[[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "$png is not a PNG"
# A blank 1400x1600 page compresses to a few KB; the matrix in colour is far more.
[[ $size -gt 40000 ]] || fail "the screenshot is only $size bytes: the page looks blank"

# The hostile sample. A script that ran would have set the title to
# "EXECUTED <where>"; an element of a payload would be in the DOM as markup.
page=$hostile browse --dump-dom >"$hostile_dom"
rc=$?
[[ $rc -eq 0 ]] || { cat "$log" >&2; fail "chromium --dump-dom of $hostile exited $rc"; }
title=$(grep -o '<title>[^<]*</title>' "$hostile_dom" | head -1)
[[ $title == "<title>ilk matrix: "* ]] || fail "a payload ran: the title is $title"
# The report has no element of these kinds of its own (its CSP allows no script either).
if grep -Eq '<(script|img|svg|iframe)' "$hostile_dom"; then
    fail "a payload became markup: $(grep -Eo '<(script|img|svg|iframe)[^>]{0,60}' "$hostile_dom" | head -1) in $hostile_dom"
fi
# Each string the report shows, shown as text (a field left out would prove nothing).
wheres="hostname kernel profile schedule merged-from strategy-name strategy-summary strategy-source scenario-summary not-run
        not-run-file target-host platform path mount-options requested-fstype requested-options unsupported profile-file
        profile-source fact-evidence server-log-line server-evidence counterexample-path holder-saw transcript-step transcript-saw finding"
shown=0
for where in $wheres; do
    grep -qF "&lt;script&gt;document.title='EXECUTED $where'&lt;/script&gt;" "$hostile_dom" ||
        fail "the hostile $where is not shown as text in $hostile_dom"
    shown=$((shown + 1))
done
hostile_cells=$(grep -oE '<td class="cell [^"]*"' "$hostile_dom" | wc -l)
[[ $hostile_cells -ge 13 ]] || fail "the hostile page has $hostile_cells matrix cells: it did not render its matrix"
grep -qF "<tr data-strategy=\"&lt;script&gt;document.title='EXECUTED strategy-name'" "$hostile_dom" ||
    fail "the hostile page has no row for the strategy named by a payload"
echo "$me: PASS: $checks DOM checks, $cells matrix cells, $squares grid squares all linked, screenshot $png ($size bytes);" \
     "hostile page: no payload ran or became markup, $shown outside strings shown as text, $hostile_cells cells"
