#!/bin/bash
# obslink-consumers: tells nginx which consumer each VPC endpoint belongs to.
# The NLB's proxy protocol header names the consumer's VPC endpoint id
# (vpce-...), which exists only once the consumer deployed; obslink knows
# consumers by account and region. This joins the two: the table obslink
# wrote at synth ("<account> <region> <name>" lines, in the SSM parameters
# under OBSLINK_CONSUMER_PARAMETERS) with the endpoint service's available
# connections (EC2 DescribeVpcEndpointConnections: endpoint id, owner account,
# the endpoint's region), and writes nginx's map of "vpce-... name;" lines.
# Accounts with several consumers in one region map to their names joined
# by "+", sorted (an endpoint connection names no VPC); an endpoint whose
# account and region the table does not list (a consumer group's account)
# maps to "account-<id>". nginx reloads only when the map differs from the
# one it last loaded (OBSLINK_CONSUMER_MAP.loaded), so a failed reload is
# tried again on the next run. On an API error it keeps the map it has and
# exits 1; the timer runs it again. The map starts empty: until the first
# run, requests are attributed to "unknown".
#
# Settings (environment, or the file named by OBSLINK_CONSUMERS_ENV):
#   OBSLINK_REGION               the provider's region (required)
#   OBSLINK_CONSUMER_PARAMETERS  SSM path of the consumer table (required)
#   OBSLINK_CONSUMER_MAP         nginx's map file (required)
#   OBSLINK_RELOAD               command that reloads nginx (default: systemctl try-reload-or-restart nginx)
#   OBSLINK_NGINX_TEST           command that checks the config (default: nginx -t -q)
set -euo pipefail
if [ -n "${OBSLINK_CONSUMERS_ENV:-}" ]; then
    # shellcheck disable=SC1090
    . "$OBSLINK_CONSUMERS_ENV"
fi
: "${OBSLINK_REGION:?set OBSLINK_REGION}"
: "${OBSLINK_CONSUMER_PARAMETERS:?set OBSLINK_CONSUMER_PARAMETERS}"
: "${OBSLINK_CONSUMER_MAP:?set OBSLINK_CONSUMER_MAP}"
reload=${OBSLINK_RELOAD:-systemctl try-reload-or-restart nginx}
nginx_test=${OBSLINK_NGINX_TEST:-nginx -t -q}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each parameter holds whole lines and ends with a newline.
aws ssm get-parameters-by-path --region "$OBSLINK_REGION" --path "$OBSLINK_CONSUMER_PARAMETERS" \
    --query "join('', Parameters[].Value)" --output text >"$work/table"
aws ec2 describe-vpc-endpoint-connections --region "$OBSLINK_REGION" \
    --filters Name=vpc-endpoint-state,Values=available \
    --query 'VpcEndpointConnections[].[VpcEndpointId,VpcEndpointOwner,VpcEndpointRegion]' \
    --output text >"$work/connections"

# The table sorted and without repeats (chunks may overlap while
# CloudFormation rewrites them), so joined names come out in one order.
LC_ALL=C sort -u "$work/table" >"$work/table.sorted"
# An endpoint in the provider's own region may carry no region (None).
awk -v here="$OBSLINK_REGION" '
    FNR == NR {
        if ($0 ~ /^#/ || NF != 3) next
        key = $1 " " $2
        # (test first: awk creates names[key] as soon as the assignment names it)
        if (key in names) names[key] = names[key] "+" $3
        else names[key] = $3
        next
    }
    $1 ~ /^vpce-[0-9a-f]+$/ {
        region = ($3 == "" || $3 == "None") ? here : $3
        key = $2 " " region
        if (key in names) printf "%s %s;\n", $1, names[key]
        else if ($2 ~ /^[0-9]+$/) printf "%s account-%s;\n", $1, $2
    }' "$work/table.sorted" "$work/connections" | LC_ALL=C sort -u >"$work/map"

loaded=$OBSLINK_CONSUMER_MAP.loaded
if [ -f "$loaded" ] && cmp -s "$work/map" "$loaded" && cmp -s "$work/map" "$OBSLINK_CONSUMER_MAP"; then
    exit 0
fi
[ -f "$OBSLINK_CONSUMER_MAP" ] && cp -p "$OBSLINK_CONSUMER_MAP" "$work/previous"
cp "$work/map" "$OBSLINK_CONSUMER_MAP.new"
mv -f "$OBSLINK_CONSUMER_MAP.new" "$OBSLINK_CONSUMER_MAP"
if ! $nginx_test; then
    echo "obslink-consumers: nginx rejects the new map; the previous one stays" >&2
    if [ -f "$work/previous" ]; then cp -p "$work/previous" "$OBSLINK_CONSUMER_MAP"; else : >"$OBSLINK_CONSUMER_MAP"; fi
    exit 1
fi
$reload
cp "$work/map" "$loaded"
echo "obslink-consumers: $(wc -l <"$work/map") endpoint(s) mapped; nginx reloaded" >&2
