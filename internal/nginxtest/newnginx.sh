#!/usr/bin/env bash
# newnginx.sh [--check] DIR: a Debian 13 (trixie) root in DIR, made with
# debootstrap, holding nginx 1.26: the version Amazon Linux 2023 runs, with
# the features Debian 12's nginx 1.22 lacks (the AWS proxy protocol TLV
# variables, 1.23.2), and its stream module (libnginx-mod-stream, for tls:
# passthrough). It writes DIR/nginx, a wrapper that runs that nginx on this
# machine's file system (trixie's loader and libraries, not a chroot), so
# tests use their own paths and network namespaces. Idempotent; needs root
# and debootstrap (testdeps.sh, which make test runs, calls it after
# installing debootstrap). With --check it builds nothing and only tells,
# by its exit status, whether DIR holds that nginx already.
# debootstrap downloads from its default mirror, or from
# OBSLINK_DEBIAN_MIRROR when that is set.
set -euo pipefail
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
dir=${1:?usage: newnginx.sh [--check] DIR}
if [ -x "$dir/nginx" ] && "$dir/nginx" -v >/dev/null 2>&1 &&
    [ -f "$dir/usr/lib/nginx/modules/ngx_stream_module.so" ]; then
    exit 0
fi
if $check; then exit 1; fi
rm -rf "$dir.tmp"
mkdir -p "$(dirname "$dir")"
echo "newnginx.sh: debootstrap trixie (nginx) into $dir (a minute or two, once)" >&2
debootstrap --variant=minbase --include=nginx,libnginx-mod-stream trixie "$dir.tmp" \
    ${OBSLINK_DEBIAN_MIRROR:+"$OBSLINK_DEBIAN_MIRROR"} >"$dir.log" 2>&1 || {
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
