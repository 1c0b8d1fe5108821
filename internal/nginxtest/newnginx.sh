#!/usr/bin/env bash
# newnginx.sh DIR: a Debian 13 (trixie) root in DIR, made with debootstrap,
# holding nginx 1.26: the version Amazon Linux 2023 runs, with the features
# Debian 12's nginx 1.22 lacks (the AWS proxy protocol TLV variables, 1.23.2),
# and its stream module (libnginx-mod-stream, for tls: passthrough).
# It writes DIR/nginx, a wrapper that runs that nginx on this machine's
# file system (trixie's loader and libraries, not a chroot), so tests use
# their own paths and network namespaces. Idempotent; needs root and
# debootstrap (CI installs it). Exits 0 without building when debootstrap
# is missing: the tests that need it then skip (fail under OBSLINK_REQUIRE_ALL).
set -euo pipefail
dir=${1:?usage: newnginx.sh DIR}
mirror=${OBSLINK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ -x "$dir/nginx" ] && "$dir/nginx" -v >/dev/null 2>&1 &&
    [ -f "$dir/usr/lib/nginx/modules/ngx_stream_module.so" ]; then
    exit 0
fi
if ! command -v debootstrap >/dev/null; then
    echo "newnginx.sh: debootstrap is not installed (Debian: apt-get install debootstrap); tests that need nginx >= 1.23.2 will skip" >&2
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "newnginx.sh: debootstrap needs root; tests that need nginx >= 1.23.2 will skip" >&2
    exit 0
fi
rm -rf "$dir.tmp"
mkdir -p "$(dirname "$dir")"
echo "newnginx.sh: debootstrap trixie (nginx) into $dir (a minute or two, once)" >&2
debootstrap --variant=minbase --include=nginx,libnginx-mod-stream trixie "$dir.tmp" "$mirror" >"$dir.log" 2>&1 || {
    echo "newnginx.sh: debootstrap failed; last lines of $dir.log:" >&2
    tail -n 20 "$dir.log" >&2
    exit 1
}
rm -rf "$dir"
mv "$dir.tmp" "$dir"
root=$(cd "$dir" && pwd)
loader=$(find "$root/usr/lib" -maxdepth 2 -name 'ld-linux*.so.[0-9]' | head -n 1)
[ -n "$loader" ] || { echo "newnginx.sh: no dynamic loader in $root/usr/lib" >&2; exit 1; }
cat >"$dir/nginx" <<WRAP
#!/bin/sh
# trixie's nginx on this machine's file system (written by newnginx.sh)
exec "$loader" --library-path "$(dirname "$loader")" "$root/usr/sbin/nginx" "\$@"
WRAP
chmod 0755 "$dir/nginx"
"$dir/nginx" -v
