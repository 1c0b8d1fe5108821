package main

import (
	"fmt"
	"strings"
)

var benchRegions = []string{"eu-west-1", "us-east-1", "ap-southeast-1", "us-west-2", "eu-central-1", "ap-northeast-1"}

// topologyYAML returns a valid topology with n consumers spread over
// regions provider regions, in accounts shared by ten consumers each.
func topologyYAML(n, regions int) string {
	var b strings.Builder
	b.WriteString(`name: bench
interRegion: peering
controlPlane:
  account: "100000000000"
  region: eu-west-1
  vpc: {id: vpc-0a1b2c3d4e5f60718, cidr: 10.0.0.0/16, routeTableIds: [rtb-0a1b2c3d4e5f60718], albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]}
services:
  - {name: metrics, upstream: internal-metrics.eu-west-1.elb.amazonaws.com}
  - {name: logs, upstream: internal-logs.eu-west-1.elb.amazonaws.com}
  - {name: traces, upstream: internal-traces.eu-west-1.elb.amazonaws.com, protocol: grpc, upstreamPort: 443, upstreamTls: true}
regions:
`)
	for i := 0; i < regions; i++ {
		r := benchRegions[i]
		fmt.Fprintf(&b, "  - {region: %s, cidr: 10.100.%d.0/24, availabilityZones: [%sa, %sb, %sc]}\n", r, i, r, r, r)
	}
	b.WriteString("consumers:\n")
	for i := 0; i < n; i++ {
		r := benchRegions[i%regions]
		fmt.Fprintf(&b, "  - {name: c%03d, account: \"%012d\", region: %s, vpc: {cidr: 10.%d.0.0/16, availabilityZones: [%sa, %sb]}}\n",
			i, 200000000000+i/10, r, i%250, r, r)
	}
	return b.String()
}
