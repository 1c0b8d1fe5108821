#!/bin/bash
# obslink-selfcheck: the bootstrap's last step. It checks that this proxy can
# do its job before the instance joins the NLB and the deploy goes on: nginx
# answers on its health port, and every service's ALB name resolved and
# answers a TCP connection on its port. On success it writes the ready file,
# which nginx's /healthz requires (a one-time gate: later ALB trouble does
# not fail the health check, the alarms report it), and exits 0; the
# bootstrap then signals CloudFormation. On failure it names each problem
# and exits 1, the bootstrap signals failure, and the deploy rolls back.
#
# Settings (environment, or the file named by OBSLINK_RESOLVE_ENV):
#   OBSLINK_UPSTREAMS     file of lines "<service> <host> <port>"   (required)
#   OBSLINK_UPSTREAM_DIR  where obslink-resolve wrote <service>.conf (required)
#   OBSLINK_HEALTH_URL    nginx's health URL (default http://127.0.0.1:8080/healthz)
#   OBSLINK_READY_FILE    written on success (required)
#   OBSLINK_CONNECT_TIMEOUT seconds per TCP connection attempt (default 3)
set -u
if [ -n "${OBSLINK_RESOLVE_ENV:-}" ]; then
    # shellcheck disable=SC1090
    . "$OBSLINK_RESOLVE_ENV"
fi
: "${OBSLINK_UPSTREAMS:?set OBSLINK_UPSTREAMS}"
: "${OBSLINK_UPSTREAM_DIR:?set OBSLINK_UPSTREAM_DIR}"
: "${OBSLINK_READY_FILE:?set OBSLINK_READY_FILE}"
health=${OBSLINK_HEALTH_URL:-http://127.0.0.1:8080/healthz}
timeout_s=${OBSLINK_CONNECT_TIMEOUT:-3}
problems=0
fail() { echo "obslink-selfcheck: $*" >&2; problems=$((problems + 1)); }

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$health")
case "$code" in
    200 | 503) ;; # 503: not ready yet, which this check decides
    *) fail "nginx does not answer $health (HTTP $code)" ;;
esac

while read -r name host port; do
    [ -n "$name" ] || continue
    case "$name" in \#*) continue ;; esac
    addrs=$(sed -n 's/^server \([0-9.]*\):[0-9]* .*/\1/p' "$OBSLINK_UPSTREAM_DIR/$name.conf" 2>/dev/null | grep -v '^127\.0\.0\.1$' || true)
    if grep -q ' down;' "$OBSLINK_UPSTREAM_DIR/$name.conf" 2>/dev/null || [ -z "$addrs" ]; then
        fail "$name: $host did not resolve"
        continue
    fi
    reached=""
    for a in $addrs; do
        if timeout "$timeout_s" bash -c "exec 3<>/dev/tcp/$a/$port" 2>/dev/null; then
            reached=$a
            break
        fi
    done
    [ -n "$reached" ] || fail "$name: $host ($(tr '\n' ' ' <<<"$addrs")) does not answer on port $port (ALB security group, listener, route?)"
done <"$OBSLINK_UPSTREAMS"

if [ "$problems" -gt 0 ]; then
    rm -f "$OBSLINK_READY_FILE"
    echo "obslink-selfcheck: $problems problem(s); not ready" >&2
    exit 1
fi
: >"$OBSLINK_READY_FILE"
echo "obslink-selfcheck: ready" >&2
