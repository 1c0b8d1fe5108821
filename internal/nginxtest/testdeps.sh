#!/usr/bin/env bash
# testdeps.sh DIR: what make test's tests run, installed the way make
# toolchain installs the CDK CLI. As root: the Debian packages below that
# are missing (apt-get update once, then one apt-get install), then Debian
# 13's nginx in DIR (newnginx.sh). Not as root it installs nothing and fails,
# naming what is missing and the one command that installs it.
# SKIP_MISSING=1 installs nothing and only names what is missing (exit 0):
# the tests that need it skip. apt-get and debootstrap use their own
# configuration (debootstrap's mirror: OBSLINK_DEBIAN_MIRROR, see newnginx.sh).
set -euo pipefail
dir=${1:?usage: testdeps.sh DIR}
here=$(dirname "$0")

have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }
missing=()
have nginx || missing+=(nginx-light)               # the proxy, run for real
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
    missing+=(libnginx-mod-stream)                 # tls: passthrough
have dig || missing+=(bind9-dnsutils)              # the tests' DNS queries
have haproxy || missing+=(haproxy)                 # the proxy benchmark's peer
have logrotate || missing+=(logrotate)             # the proxies' log rotation
have shellcheck || missing+=(shellcheck)           # make lint, user data
have dot || missing+=(graphviz)                    # obslink graph --format svg
built=true
bash "$here/newnginx.sh" --check "$dir" || built=false
$built || have debootstrap || missing+=(debootstrap)  # only to build DIR

todo=()
[ ${#missing[@]} -eq 0 ] || todo+=("apt-get install --no-install-recommends ${missing[*]}")
$built || todo+=("Debian 13's nginx in $dir (newnginx.sh: debootstrap, a minute or two)")
[ ${#todo[@]} -gt 0 ] || exit 0

if [ "${SKIP_MISSING:-}" = 1 ]; then
    echo "SKIP_MISSING=1: not installed, so the tests that need it skip:" >&2
    printf '  %s\n' "${todo[@]}" >&2
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    {
        echo "make test: its tests need what is missing here, and installing it needs root:"
        printf '  %s\n' "${todo[@]}"
        echo "One command installs it all:  sudo make testdeps"
        echo "Or test without it (the tests that need it skip):  make test SKIP_MISSING=1"
    } >&2
    exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
$built || bash "$here/newnginx.sh" "$dir"
