// Package scale generates the large topologies the quota tests and make
// bench synthesize.
package scale

import (
	"fmt"
	"strings"
)

// Regions are the six regions of the scale topologies.
var Regions = []string{"eu-west-1", "us-east-1", "ap-southeast-1", "us-west-2", "eu-central-1", "ap-northeast-1"}

// StackSets is n named consumers, each in its own account, spread over six
// provider regions, and groups consumer
// groups of two OUs each, in every region: consumerDeployment stacksets.
func StackSets(n, groups int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `name: setscale
interRegion: peering
consumerDeployment: stacksets
controlPlane:
  account: "100000000000"
  region: %s
  organizationId: %s
  organizationRootId: r-a1b2
  stackSetAdministrator: "100000000001"
  vpc: {id: vpc-0a1b2c3d4e5f60718, cidr: 10.0.0.0/16, routeTableIds: [rtb-0a1b2c3d4e5f60718], albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]}
services:
  - {name: metrics, upstream: internal-metrics.eu-west-1.elb.amazonaws.com}
  - {name: logs, upstream: internal-logs.eu-west-1.elb.amazonaws.com}
  - {name: traces, upstream: internal-traces.eu-west-1.elb.amazonaws.com, protocol: grpc, upstreamPort: 443, upstreamTls: true}
proxy: {proxyProtocol: true}
regions:
`, "eu-west-1", "o-a1b2c3d4e5")
	for i, r := range Regions {
		fmt.Fprintf(&b, "  - {region: %s, cidr: 10.100.%d.0/24, availabilityZones: [%sa, %sb, %sc]}\n", r, i, r, r, r)
	}
	b.WriteString("consumers:\n")
	for i := 0; i < n; i++ {
		r := Regions[i%len(Regions)]
		fmt.Fprintf(&b, "  - {name: c%04d, account: \"%012d\", region: %s}\n", i, 200000000000+i, r)
	}
	b.WriteString("consumerGroups:\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "  - {name: g%02d, organizationalUnitIds: [ou-a1b2-%08d, ou-a1b2-%08d], regions: [%s]}\n", g, 2*g, 2*g+1, strings.Join(Regions, ", "))
	}
	return b.String()
}

// Stacks is n consumers in stacks mode over the first regions of Regions
// (one to six): peering, three services, an organization (so every
// consumer reads its provider through the provider's output-reader role),
// each consumer in its own account with a new VPC of its own (a /20 of
// 10.1.0.0-10.254.255.255, none overlapping another or a provider), spread
// over the regions in turn. make bench times it; the tests synthesize small
// ones to prove that work done per template shape gives what work done per
// template gives.
func Stacks(n, regions int) string {
	var b strings.Builder
	b.WriteString(`name: bench
interRegion: peering
controlPlane:
  account: "100000000000"
  region: eu-west-1
  organizationId: o-a1b2c3d4e5
  vpc: {id: vpc-0a1b2c3d4e5f60718, cidr: 10.0.0.0/16, routeTableIds: [rtb-0a1b2c3d4e5f60718], albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]}
services:
  - {name: metrics, upstream: internal-metrics.eu-west-1.elb.amazonaws.com}
  - {name: logs, upstream: internal-logs.eu-west-1.elb.amazonaws.com}
  - {name: traces, upstream: internal-traces.eu-west-1.elb.amazonaws.com, protocol: grpc, upstreamPort: 443, upstreamTls: true}
regions:
`)
	for i := 0; i < regions; i++ {
		r := Regions[i]
		fmt.Fprintf(&b, "  - {region: %s, cidr: 10.100.%d.0/24, availabilityZones: [%sa, %sb, %sc]}\n", r, i, r, r, r)
	}
	b.WriteString("consumers:\n")
	for i := 0; i < n; i++ {
		r := Regions[i%regions]
		second := 1 + i/16
		if second >= 100 { // 10.100.0.0/16 holds the providers
			second++
		}
		fmt.Fprintf(&b, "  - {name: c%04d, account: \"%012d\", region: %s, vpc: {cidr: 10.%d.%d.0/20, availabilityZones: [%sa, %sb]}}\n",
			i, 200000000000+i, r, second, (i%16)*16, r, r)
	}
	return b.String()
}
