#!/usr/bin/env bash
# Runs the package's debian/postinst and debian/postrm, as dpkg would for install,
# reinstall, upgrade, remove and purge, against a matrix of /root/.forward files, each in a
# scratch directory standing in for / (PVENOTIFY_TEST_ROOT, which only tests set). Checks
# the file's exact bytes after each step, that owner and mode are kept, that nothing is left
# behind, and that removing the package gives Proxmox VE's line back.
# Run by tests/maintscripts.rs (so by `cargo test`); exit status 0 when every check holds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
POSTINST=$PWD/debian/postinst
POSTRM=$PWD/debian/postrm
LINE='|/usr/libexec/pvenotify-forward-mail'
PVE='|/usr/libexec/proxmox-mail-forward'
PVE_OLD='"|/usr/bin/proxmox-mail-forward"'
ABSENT='<absent>'
failures=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() {
    echo "FAIL [$case_name, $step]: $*" >&2
    failures=$((failures + 1))
}

# expect FILE CONTENT: FILE holds exactly CONTENT (or is absent for $ABSENT).
expect() {
    if [[ "$2" == "$ABSENT" ]]; then
        [[ ! -e "$1" ]] || fail "$1 exists: $(od -c "$1" | head -5)"
    elif [[ ! -f "$1" ]]; then
        fail "$1 is missing"
    elif ! cmp -s "$1" <(printf '%s' "$2"); then
        fail "$1 is $(od -An -c "$1" | tr -s ' ' | head -5), expected $(printf '%s' "$2" | od -An -c | tr -s ' ' | head -5)"
    fi
}

# The owner and mode of FILE, or nothing when it is absent.
owner_mode() { if [[ -e "$1" ]]; then stat -c '%u:%g %a' "$1"; fi; }

run() {  # run SCRIPT ARGS...: a maintainer script inside the scratch root
    PVENOTIFY_TEST_ROOT=$root sh "$@" >"$scratch/out" 2>&1 || fail "$* exited $?: $(cat "$scratch/out")"
}

# check_case NAME BEFORE AFTER_INSTALL AFTER_REMOVE
check_case() {
    case_name=$1
    local before=$2 installed=$3 removed=$4
    root=$scratch/$case_name
    mkdir -p "$root/root"
    local forward=$root/root/.forward
    step=setup
    if [[ "$before" != "$ABSENT" ]]; then
        printf '%s' "$before" >"$forward"
        chmod 640 "$forward"
        # As root, an owner other than root shows that the owner is kept.
        if [[ $(id -u) == 0 ]]; then chown 65534:65534 "$forward"; fi
    fi
    local kept
    kept=$(owner_mode "$forward")

    step=install
    run "$POSTINST" configure
    expect "$forward" "$installed"
    if [[ -n "$kept" ]]; then
        [[ "$(owner_mode "$forward")" == "$kept" ]] || fail "owner/mode $(owner_mode "$forward"), was $kept"
    else
        [[ "$(owner_mode "$forward")" == "$(id -u):$(id -g) 644" ]] || fail "new file has $(owner_mode "$forward")"
    fi
    local saved inode
    saved=$(cat "$root/var/lib/pvenotify/forward-removed" 2>/dev/null || true)
    inode=$(stat -c %i "$forward")

    step=reinstall
    run "$POSTINST" configure 0.1.0
    expect "$forward" "$installed"
    [[ "$(stat -c %i "$forward")" == "$inode" ]] || fail "rewritten although it was right"

    step=upgrade
    run "$POSTRM" upgrade 0.2.0
    run "$POSTINST" configure 0.1.0
    expect "$forward" "$installed"
    [[ "$(cat "$root/var/lib/pvenotify/forward-removed" 2>/dev/null || true)" == "$saved" ]] ||
        fail "saved lines changed on upgrade"

    step=remove
    run "$POSTRM" remove
    expect "$forward" "$removed"
    if [[ -n "$kept" ]]; then
        [[ "$(owner_mode "$forward")" == "$kept" ]] || fail "owner/mode $(owner_mode "$forward"), was $kept"
    fi

    step=purge
    run "$POSTRM" purge
    expect "$forward" "$removed"
    [[ ! -e "$root/var/lib/pvenotify" ]] || fail "/var/lib/pvenotify is left"
    local left
    left=$(find "$root/root" -name '*pvenotify*')
    [[ -z "$left" ]] || fail "left behind: $left"
}

CR=$'\r'
N=$'\n'
#          case                 before                                  after install                         after remove
check_case absent               "$ABSENT"                               "$LINE$N"                             "$ABSENT"
check_case empty                ""                                      "$LINE$N"                             ""
check_case no-final-newline     '\root'                                 "\\root$N$LINE$N"                     "\\root$N"
check_case crlf                 "\\root$CR${N}ops@example.com$CR$N"     "\\root$CR${N}ops@example.com$CR$N$LINE$N" "\\root$CR${N}ops@example.com$CR$N"
check_case proxmox              "$PVE$N"                                "$LINE$N"                             "$PVE$N"
check_case proxmox-old-quoted   "\\root$N$PVE_OLD$N"                    "\\root$N$LINE$N"                     "\\root$N$PVE_OLD$N"
check_case proxmox-crlf         "$PVE$CR$N"                             "$LINE$N"                             "$PVE$CR$N"
check_case proxmox-unterminated "\\root$N$PVE"                          "\\root$N$LINE$N"                     "\\root$N$PVE$N"
check_case other-pipes          "|/usr/local/bin/hook --x$N\\root$N"    "|/usr/local/bin/hook --x$N\\root$N$LINE$N" "|/usr/local/bin/hook --x$N\\root$N"
check_case ours-present         "\\root$N$LINE$N"                       "\\root$N$LINE$N"                     "\\root$N"
check_case ours-unterminated    "$LINE"                                 "$LINE$N"                             ""
check_case ours-crlf-and-pve    "$LINE$CR$N$PVE$N"                      "$LINE$N"                             "$PVE$N"
check_case latin1-bytes         "# caf"$'\xe9'"$N\\root$N"              "# caf"$'\xe9'"$N\\root$N$LINE$N"     "# caf"$'\xe9'"$N\\root$N"

# Proxmox VE puts its line back (its own upgrade) while pvenotify is installed: the next
# configure takes it out again, and remove gives it back once.
case_name=pve-re-adds; step=setup
root=$scratch/$case_name; mkdir -p "$root/root"; forward=$root/root/.forward
printf '%s\n' '\root' "$PVE" >"$forward"
step=install; run "$POSTINST" configure
printf '%s\n' "$PVE" >>"$forward"
step=upgrade; run "$POSTINST" configure 0.1.0
expect "$forward" "\\root$N$LINE$N"
step=remove; run "$POSTRM" remove
expect "$forward" "\\root$N$PVE$N"

# The admin puts Proxmox VE's line back by hand before removing pvenotify: not doubled.
case_name=admin-re-adds; step=setup
root=$scratch/$case_name; mkdir -p "$root/root"; forward=$root/root/.forward
printf '%s\n' "$PVE" >"$forward"
step=install; run "$POSTINST" configure
printf '%s\n' "$PVE_OLD" >>"$forward"
step=remove; run "$POSTRM" remove
expect "$forward" "$PVE_OLD$N"

# .forward as a symbolic link: the file it points to is changed, the link stays.
case_name=symlink; step=setup
root=$scratch/$case_name; mkdir -p "$root/root"; forward=$root/root/.forward
printf '%s\n' '\root' >"$root/root/forward.real"
ln -s forward.real "$forward"
step=install; run "$POSTINST" configure
[[ -L "$forward" ]] || fail "the link was replaced"
expect "$root/root/forward.real" "\\root$N$LINE$N"
step=remove; run "$POSTRM" remove
[[ -L "$forward" ]] || fail "the link was replaced"
expect "$root/root/forward.real" "\\root$N"

if ((failures)); then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "maintainer scripts: all checks passed"
