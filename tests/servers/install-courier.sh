#!/usr/bin/env bash
# Unpack Courier-IMAP 5.0 (Debian 12: courier-imap 5.0.13) for the test suite, next to the
# installed dovecot-imapd, without installing it (DESIGN.md §6).
#
# Why not `apt-get install courier-imap`: it declares `Conflicts: imap-server`, which
# dovecot-imapd provides, so apt would remove Dovecot. So:
#   1. apt-get install only the shared libraries the Courier binaries link against; none of
#      them conflicts with anything, and none starts a daemon.
#   2. apt-get download courier-imap and the Courier packages it needs (courier-base:
#      couriertcpd; courier-authlib, -authdaemon, -authlib-userdb: authentication), and
#      `dpkg -x` them into <repo>/.cache/test-servers/courier. Their maintainer scripts never
#      run, so nothing is registered with dpkg, no system user/service/socket is created.
#   3. Patch the paths compiled into the authentication side to relative ones, so each test
#      server (tests/servers/courier.py) runs a private authdaemond in its own temp dir:
#        libcourierauth, authdaemond  /run/courier/authdaemon/socket -> authdaemon.sock
#        authdaemond                  /run/courier/authdaemon/socket.tmp -> authdaemon.tmp
#        authdaemond                  /etc/courier/authdaemonrc    -> authdaemonrc
#        authdaemond                  /usr/lib/courier-authlib     -> authlib
#        libauthuserdb                /etc/courier/userdb{,shadow}.dat -> userdb{,shadow}.dat
#      They resolve against the working directory, which courier.py sets to the temp dir for
#      couriertcpd/imaplogin and authdaemond (imapd itself never talks to authdaemond here).
#      Each replacement is NUL-padded to the original length, so no offsets move. The package
#      versions are pinned by the check below; a new build makes a patch fail loudly.
#
# Idempotent: a finished unpack leaves a stamp naming the package versions; with the stamp in
# place and the libraries installed, the script exits at once. Run as root after apt-get update.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${COURIER_DIR:-$REPO/.cache/test-servers/courier}"
STAMP="$DEST/.installed"
# The Courier packages we unpack (never install) and the libraries we do install.
UNPACK=(courier-imap courier-base courier-authlib courier-authdaemon courier-authlib-userdb)
LIBS=(libcourier-unicode4 libgamin0 libidn12 libgdbm6 libltdl7 libcrypt1 libstdc++6)
WANT="courier-imap_5.0.13"

libs_present() {
    local pkg
    for pkg in "${LIBS[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || return 1
    done
}

if [[ -f "$STAMP" ]] && grep -q "$WANT" "$STAMP" && libs_present; then
    exit 0
fi

if [[ $EUID -ne 0 ]] && ! libs_present; then
    echo "install-courier.sh: run as root to install ${LIBS[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! libs_present; then
    # Wait for another apt run (e.g. another server's installer) instead of failing.
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${LIBS[@]}"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt drops privileges to _apt for downloads; it must be able to write the directory.
chmod 0777 "$work"
(cd "$work" && apt-get download -q "${UNPACK[@]}")
if ! ls "$work"/courier-imap_5.0.13*.deb >/dev/null 2>&1; then
    echo "install-courier.sh: expected courier-imap 5.0.13, got: $(ls "$work")" >&2
    exit 1
fi

rm -rf "$DEST.new"
mkdir -p "$DEST.new"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$DEST.new"
done

# patch FILE FROM TO: replace the bytes FROM (exactly one occurrence; perl escapes such as \0
# allowed) by TO, NUL-padded to the same length, so no offset in the ELF file moves.
patch_bytes() {
    local file="$1" from="$2" to="$3"
    FROM="$from" TO="$to" perl -0777 -i -pe '
        my $from = eval qq{"$ENV{FROM}"};
        length($ENV{TO}) < length($from) or die "replacement too long for $ENV{FROM}\n";
        my $to = $ENV{TO} . ("\0" x (length($from) - length($ENV{TO})));
        my $n = s{\Q$from\E}{$to}g;
        $n == 1 or die "$ARGV: $n matches of $ENV{FROM}, expected 1\n";
    ' "$file"
}

root="$DEST.new"
# gcc inlined the copies of the socket path as 16-byte vector stores, so two of the patches
# below are of those constants rather than of C strings. libcourierauth (the client side, in
# imaplogin) builds "/run/courier/authdaemon/socket" from the chunks "/run/courier/aut" at
# offset 0 and "thdaemon/socket\0" at offset 15: a new chunk 1 of "authdaemon.sock" and a NUL
# chunk 2 make it "authdaemon.sock".
patch_bytes "$root/usr/lib/libcourierauth.so.0.0.0" \
    "/run/courier/autthdaemon/socket\0" authdaemon.sock
daemon="$root/usr/lib/courier/courier-authlib/authdaemond"
# authdaemond binds "<socket>.tmp" (chunks at offsets 0 and 14, then ".tmp\0" at 30) and
# renames it to the socket path, a plain string.
patch_bytes "$daemon" "/run/courier/aututhdaemon/socket" authdaemon.tmp
patch_bytes "$daemon" "/run/courier/authdaemon/socket\0" authdaemon.sock
patch_bytes "$daemon" "/etc/courier/authdaemonrc\0" authdaemonrc
patch_bytes "$daemon" "/usr/lib/courier-authlib\0" authlib
userdb="$root/usr/lib/courier-authlib/libauthuserdb.so.0.0.0"
patch_bytes "$userdb" "/etc/courier/userdb.dat\0" userdb.dat
patch_bytes "$userdb" "/etc/courier/userdbshadow.dat\0" userdbshadow.dat

# Smoke test: every binary the harness runs finds its libraries.
export LD_LIBRARY_PATH="$root/usr/lib"
for bin in usr/sbin/couriertcpd usr/lib/courier/courier/imaplogin usr/bin/imapd \
        usr/lib/courier/courier-authlib/authdaemond usr/lib/courier/courier-authlib/makedatprog; do
    if ldd "$root/$bin" | grep -q "not found"; then
        echo "install-courier.sh: $bin misses libraries:" >&2
        ldd "$root/$bin" | grep "not found" >&2
        exit 1
    fi
done

(cd "$work" && ls ./*.deb) > "$root/.installed"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
echo "install-courier.sh: Courier-IMAP unpacked into $DEST"
