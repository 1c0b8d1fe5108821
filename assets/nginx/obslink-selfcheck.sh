#!/bin/bash
# obslink-selfcheck: the bootstrap's last step. It checks what the provider
# itself controls before the instance joins the NLB and the deploy goes on:
# nginx answers on its health port, and every service's ALB name resolved.
# Whether each ALB answers on its port is reported as a warning only: the
# return routes and the ALBs' ingress rules come from the control-plane
# stack, which deploys after the providers (the UpstreamErrors alarms watch
# it from then on); OBSLINK_REQUIRE_REACHABLE=1 makes it a failure. On
# success it writes the ready file, which nginx's /healthz requires (a
# one-time gate), and exits 0; the bootstrap then signals CloudFormation.
# On failure it names each problem and exits 1, the bootstrap signals
# failure, and the deploy rolls back. It never removes the ready file, so an
# operator can run it on a serving instance.
#
# Settings (environment, or the file named by OBSLINK_RESOLVE_ENV):
#   OBSLINK_UPSTREAMS     file of lines "<service> <host> <port>"   (required)
#   OBSLINK_UPSTREAM_DIR  where obslink-resolve wrote <service>.conf (required)
#   OBSLINK_HEALTH_URL    nginx's health URL (default http://127.0.0.1:8080/healthz)
#   OBSLINK_HEALTH_PROXY_PROTOCOL 1: nginx expects a proxy protocol header there, as from the NLB (default 0)
#   OBSLINK_READY_FILE    written on success (required)
#   OBSLINK_CONNECT_TIMEOUT seconds per TCP connection attempt (default 2)
#   OBSLINK_REQUIRE_REACHABLE 1: an ALB that does not answer fails the check (default 0)
#   OBSLINK_TLS_ROUTES    tls: passthrough: file of lines "<service> <host> <port>";
#                         each route must also complete a TLS handshake through
#                         this proxy (the health URL's address) on <port> with
#                         <host> as SNI, any HTTP status; where the ALB answers
#                         directly but not through the proxy, nginx's routing
#                         is broken: a failure
# The lines between "# tls-passthrough {" and "# tls-passthrough }" ship only
# with tls: passthrough (proxyfleet.Config.SelfCheckScript), so the script of
# every other fleet, and its launch template, stays as it was.
set -u
if [ -n "${OBSLINK_RESOLVE_ENV:-}" ]; then
    # shellcheck disable=SC1090
    . "$OBSLINK_RESOLVE_ENV"
fi
: "${OBSLINK_UPSTREAMS:?set OBSLINK_UPSTREAMS}"
: "${OBSLINK_UPSTREAM_DIR:?set OBSLINK_UPSTREAM_DIR}"
: "${OBSLINK_READY_FILE:?set OBSLINK_READY_FILE}"
health=${OBSLINK_HEALTH_URL:-http://127.0.0.1:8080/healthz}
# tls-passthrough {
proxy=${health#*://}
proxy=${proxy%%[:/]*}
# tls-passthrough }
timeout_s=${OBSLINK_CONNECT_TIMEOUT:-2}
problems=0
fail() { echo "obslink-selfcheck: $*" >&2; problems=$((problems + 1)); }
warn() {
    if [ "${OBSLINK_REQUIRE_REACHABLE:-0}" = 1 ]; then
        fail "$@"
    else
        echo "obslink-selfcheck: warning: $*" >&2
    fi
}

pp=()
[ "${OBSLINK_HEALTH_PROXY_PROTOCOL:-0}" = 1 ] && pp=(--haproxy-protocol)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${pp[@]}" "$health")
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
    # tls-passthrough {
    route=""
    [ -z "${OBSLINK_TLS_ROUTES:-}" ] ||
        route=$(awk -v n="$name" '$1 == n { print $2 ":" $3 }' "$OBSLINK_TLS_ROUTES")
    if [ -n "$route" ]; then
        # -k: the instance does not hold the agents' CA; the agents verify.
        # Only the handshake counts: a slow answer from the ALB's target is
        # not the proxy's fault.
        hs=$(curl -sk -o /dev/null --max-time 5 -w '%{time_appconnect}' "${pp[@]}" --resolve "${route%:*}:${route##*:}:$proxy" "https://$route/" || true)
        if [ -n "$hs" ] && [ "${hs//[0.]/}" != "" ]; then
            continue
        fi
        if [ -n "$reached" ]; then
            fail "$name: $host answers, but a TLS handshake through this proxy with SNI ${route%:*} on port ${route##*:} does not (nginx's stream routing)"
            continue
        fi
    fi
    # tls-passthrough }
    [ -n "$reached" ] || warn "$name: $host ($(tr '\n' ' ' <<<"$addrs")) does not answer on port $port (ALB security group, listener, route?)"
done <"$OBSLINK_UPSTREAMS"

if [ "$problems" -gt 0 ]; then
    echo "obslink-selfcheck: $problems problem(s); not ready" >&2
    exit 1
fi
: >"$OBSLINK_READY_FILE"
echo "obslink-selfcheck: ready" >&2
