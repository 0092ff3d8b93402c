#!/usr/bin/env bash
# Make Cyrus IMAP 3.6 (Debian 12's cyrus-imapd) runnable by tests/servers/cyrus.py.
#
# cyrus-imapd "Conflicts: imap-server", which dovecot-imapd (used by the rest of the suite)
# provides, and cyrus-common pulls in a mail transport agent and a system-wide service. So
# neither is installed: apt-get installs only the shared libraries and SASL tools they need
# (none conflicts with Dovecot), and the two packages are unpacked with `apt-get download` +
# `dpkg -x` into <repo>/.cache/test-servers/cyrus. The harness runs the binaries from there
# with LD_LIBRARY_PATH set, as nobody/nogroup (imapd.conf `cyrus_user`), so no `cyrus` system
# user is needed either.
#
# Idempotent: a fast no-op (no apt, no network) once everything is in place.
# Usage: bash tests/servers/install-cyrus.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest="$root/.cache/test-servers/cyrus"
stamp="$dest/.installed"
# The binaries the harness runs (under usr/lib/cyrus/bin).
binaries=(master imapd idled ctl_cyrusdb)
# Runtime libraries of cyrus-common and cyrus-imapd that those binaries link, the SASL plugins
# (PLAIN, LOGIN, the sasldb auxprop) and saslpasswd2, which the harness uses to add users.
packages=(
    libc6 libcom-err2 libgcc-s1 libical3 libicu72 libjansson4 libkrb5-3 libldap-2.5-0
    libpcre3 libpq5 libsqlite3-0 libssl3 libstdc++6 libwrap0 libxapian30 libxml2 zlib1g
    libsasl2-2 libsasl2-modules libsasl2-modules-db sasl2-bin
)

die() {
    echo "install-cyrus.sh: error: $*" >&2
    exit 1
}

missing_packages() {
    local pkg
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null | grep -qx installed \
            || echo "$pkg"
    done
}

libdir() {
    dirname "$(find "$dest/usr/lib" -maxdepth 2 -name 'libcyrus.so.0' | head -n 1)"
}

check_binaries() {
    local lib bin out
    lib=$(libdir)
    for bin in "${binaries[@]}"; do
        [ -x "$dest/usr/lib/cyrus/bin/$bin" ] || die "$dest/usr/lib/cyrus/bin/$bin is missing"
        out=$(LD_LIBRARY_PATH="$lib" ldd "$dest/usr/lib/cyrus/bin/$bin" | grep 'not found' || true)
        [ -z "$out" ] || die "$bin cannot find shared libraries:"$'\n'"$out"
    done
    command -v saslpasswd2 >/dev/null || [ -x /usr/sbin/saslpasswd2 ] \
        || die "saslpasswd2 (package sasl2-bin) is missing"
    getent passwd nobody >/dev/null || die "user nobody is missing"
    getent group nogroup >/dev/null || die "group nogroup is missing"
}

# Fast path: unpacked before, and every library still installed.
if [ -f "$stamp" ] && [ -z "$(missing_packages)" ]; then
    check_binaries
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "run as root (apt-get install and apt-get download)"
    sudo="sudo"
fi

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-cyrus.sh: installing ${missing[*]}"
    # Never let apt remove anything (Dovecot above all) to satisfy these.
    plan=$($sudo apt-get install -s --no-install-recommends "${missing[@]}") \
        || die "apt-get cannot install ${missing[*]} (run apt-get update?)"
    if grep -q '^Remv ' <<<"$plan"; then
        die "installing ${missing[*]} would remove packages:"$'\n'"$(grep '^Remv ' <<<"$plan")"
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

if [ ! -f "$stamp" ]; then
    version=$(apt-cache policy cyrus-imapd | awk '/Candidate:/ {print $2}')
    case "$version" in
        3.6.*) ;;
        "" | "(none)") die "apt knows no cyrus-imapd package (run apt-get update?)" ;;
        *) die "cyrus-imapd candidate is $version, the harness expects 3.6" ;;
    esac
    echo "install-cyrus.sh: unpacking cyrus-imapd and cyrus-common $version into $dest"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # The sandbox user _apt cannot write into a root-only mktemp dir; download as root.
    (cd "$work" && $sudo apt-get download -q -o APT::Sandbox::User=root \
        "cyrus-imapd=$version" "cyrus-common=$version" >/dev/null) \
        || die "apt-get download cyrus-imapd cyrus-common failed"
    mkdir -p "$work/tree"
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$work/tree"
    done
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest"
    mv "$work/tree" "$dest"
    echo "$version" >"$stamp"
fi

check_binaries
echo "install-cyrus.sh: Cyrus IMAP $(cat "$stamp") ready in $dest"
