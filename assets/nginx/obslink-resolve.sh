#!/bin/bash
# obslink-resolve keeps nginx's upstream addresses current.
#
# nginx before 1.27.3 (Amazon Linux 2023 ships 1.24/1.26) resolves the names in
# an upstream block only when it loads its configuration, and ALB addresses
# change. A variable in proxy_pass would re-resolve, but it turns off upstream
# keepalive. So this loop asks the resolver for each ALB's addresses, writes
# them as `server` lines into the file the upstream block includes, and reloads
# nginx (gracefully: in-flight requests finish on the old workers) only when an
# address set changed. A failed lookup keeps the previous addresses, and logs
# what the resolver said.
#
# Settings (environment, or the file named by OBSLINK_RESOLVE_ENV):
#   OBSLINK_UPSTREAMS     file of lines "<service> <host> <port>"   (required)
#   OBSLINK_UPSTREAM_DIR  where <service>.conf files go              (required)
#   OBSLINK_RESOLVER      DNS server address  (default 169.254.169.253, the VPC resolver)
#   OBSLINK_RESOLVER_PORT DNS server port     (default 53)
#   OBSLINK_INTERVAL      seconds between lookups (default 10)
#   OBSLINK_RELOAD        command that reloads nginx (default: systemctl reload nginx)
#   OBSLINK_TEMP_DIR      nginx's request-body buffer directory; when its disk has
#                         less than OBSLINK_MIN_FREE_MB (default 512) free, the file
#                         obslink-disk-low there makes /healthz answer 503 (optional)
# Usage: obslink-resolve [--once]
set -u
if [ -n "${OBSLINK_RESOLVE_ENV:-}" ]; then
    # shellcheck disable=SC1090
    . "$OBSLINK_RESOLVE_ENV"
fi
: "${OBSLINK_UPSTREAMS:?set OBSLINK_UPSTREAMS to the file of upstream names}"
: "${OBSLINK_UPSTREAM_DIR:?set OBSLINK_UPSTREAM_DIR to the directory nginx includes}"
resolver=${OBSLINK_RESOLVER:-169.254.169.253}
resolver_port=${OBSLINK_RESOLVER_PORT:-53}
interval=${OBSLINK_INTERVAL:-10}
reload=${OBSLINK_RELOAD:-systemctl reload nginx}

log() { echo "obslink-resolve: $*" >&2; }

# check_disk marks the request-body buffer's disk low (or clears the mark):
# nginx buffers bodies over 1 MiB there, and a full disk fails them.
check_disk() {
    [ -n "${OBSLINK_TEMP_DIR:-}" ] || return 0
    local free marker="$OBSLINK_TEMP_DIR/obslink-disk-low"
    free=$(df -Pm "$OBSLINK_TEMP_DIR" 2>/dev/null | awk 'NR == 2 { print $4 }')
    [ -n "$free" ] || return 0
    if [ "$free" -lt "${OBSLINK_MIN_FREE_MB:-512}" ]; then
        [ -e "$marker" ] || log "only ${free} MiB free for request bodies in $OBSLINK_TEMP_DIR; /healthz answers 503"
        : >"$marker"
    elif [ -e "$marker" ]; then
        rm -f "$marker"
        log "${free} MiB free for request bodies again; /healthz answers 200"
    fi
}

# lookup HOST sets addrs to the IPv4 addresses of HOST, sorted, one per
# line, and, when there is none, why to what the resolver said (SERVFAIL,
# NXDOMAIN, NOERROR with no address) or that it did not answer.
lookup() {
    local out
    out=$(dig +time=2 +tries=2 -p "$resolver_port" "@$resolver" A "$1" 2>&1)
    addrs=$(awk '$4 == "A" && $5 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { print $5 }' <<<"$out" | sort -u)
    why=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -n 1)
    case "$why" in
        "") why="no answer from $resolver" ;;
        NOERROR) why="NOERROR, no address" ;;
    esac
}

# sync_once updates every upstream file; it prints "changed" when one changed.
sync_once() {
    local name host port addrs why want file changed=""
    while read -r name host port; do
        [ -n "$name" ] || continue
        case "$name" in \#*) continue ;; esac
        file="$OBSLINK_UPSTREAM_DIR/$name.conf"
        lookup "$host"
        if [ -z "$addrs" ]; then
            if [ -s "$file" ]; then
                log "no address for $host ($why); keeping the previous ones"
                continue
            fi
            log "no address for $host yet ($why); $name answers 502 until it resolves"
            want="server 127.0.0.1:9 down; # $host did not resolve"
        else
            want=$(for a in $addrs; do echo "server $a:$port max_fails=1 fail_timeout=2s;"; done)
        fi
        if [ "$want" != "$(cat "$file" 2>/dev/null)" ]; then
            printf '%s\n' "$want" >"$file.tmp" && mv -f "$file.tmp" "$file"
            log "$name: $host is now $(tr '\n' ' ' <<<"$addrs")"
            changed=1
        fi
    done <"$OBSLINK_UPSTREAMS"
    [ -z "$changed" ] || echo changed
}

if [ "${1:-}" = "--once" ]; then
    sync_once >/dev/null
    check_disk
    exit 0
fi
while :; do
    check_disk
    if [ -n "$(sync_once)" ]; then
        $reload || log "reload failed: $reload"
    fi
    sleep "$interval"
done
