// Package netutil holds the VPC layout shared by the obslink constructs.
package netutil

import (
	"fmt"
	"math/bits"
	"net/netip"
	"regexp"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

var reZoneID = regexp.MustCompile(`^[a-z]+[0-9]+-az[0-9]+$`)

// IsolatedVpc creates a VPC with one private isolated subnet per zone: no
// internet gateway, no NAT. Traffic leaves only through endpoints and the
// inter-region links obslink adds. zones are names (us-east-1a) or zone ids
// (use1-az1). It panics on a CIDR that cannot hold a
// /28 per zone, which topology validation rules out.
func IsolatedVpc(scope constructs.Construct, id string, cidr string, zones []string, subnetName string) awsec2.Vpc {
	mask, err := SubnetMask(cidr, len(zones))
	if err != nil {
		panic(err)
	}
	vpc := awsec2.NewVpc(scope, jsii.String(id), &awsec2.VpcProps{
		IpAddresses:        awsec2.IpAddresses_Cidr(jsii.String(cidr)),
		AvailabilityZones:  jsii.Strings(zones...),
		NatGateways:        jsii.Number(0),
		EnableDnsHostnames: jsii.Bool(true),
		EnableDnsSupport:   jsii.Bool(true),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String(subnetName),
			SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
			CidrMask:   jsii.Number(float64(mask)),
		}},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	// Zone ids (use1-az1) name the same zone in every account; CloudFormation
	// takes them as AvailabilityZoneId. CDK places subnets by name, so the
	// subnet of each id gets the id instead.
	for _, s := range zoneIDSubnets(vpc, zones) {
		if z := *s.AvailabilityZone(); reZoneID.MatchString(z) {
			cfn := s.Node().DefaultChild().(awsec2.CfnSubnet)
			cfn.AddPropertyDeletionOverride(jsii.String("AvailabilityZone"))
			cfn.AddPropertyOverride(jsii.String("AvailabilityZoneId"), jsii.String(z))
		}
	}
	// Flow logs of all traffic, kept 90 days, for troubleshooting and audit.
	logs := awslogs.NewLogGroup(vpc, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_THREE_MONTHS,
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(logs, nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	return vpc
}

// zoneIDSubnets returns the subnets of vpc when a zone is given by id, else
// none (without asking jsii: a round trip each).
func zoneIDSubnets(vpc awsec2.Vpc, zones []string) []awsec2.ISubnet {
	for _, z := range zones {
		if reZoneID.MatchString(z) {
			return *vpc.IsolatedSubnets()
		}
	}
	return nil
}

// SubnetMask is the prefix length that splits cidr into one subnet per zone,
// rounded up to a power of two. Fixed by the CIDR and the zone count, so that
// the subnets of a deployed VPC never move.
func SubnetMask(cidr string, zones int) (int, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 CIDR; write it as 10.0.0.0/16", cidr)
	}
	if zones < 1 {
		return 0, fmt.Errorf("%q: need at least one availability zone", cidr)
	}
	mask := p.Bits() + bits.Len(uint(zones-1))
	if mask > 28 {
		return 0, fmt.Errorf("%q is too small for %d zones: a subnet per zone would be /%d, smaller than /28; use a larger CIDR or fewer zones", cidr, zones, mask)
	}
	return mask, nil
}

// IDPart turns a topology name (a DNS label) into a construct id part:
// metrics-v2 becomes MetricsV2. Construct ids are a public contract: they
// decide logical ids, so this mapping must never change.
func IDPart(name string) string {
	out := make([]byte, 0, len(name))
	up := true
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch == '-' {
			up = true
			continue
		}
		if up && ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		up = false
		out = append(out, ch)
	}
	return string(out)
}

// RouteTableIDs returns the distinct route tables of a VPC's private
// subnets, in subnet order.
func RouteTableIDs(vpc awsec2.IVpc) []*string {
	var out []*string
	seen := map[string]bool{}
	for _, s := range *vpc.SelectSubnets(nil).Subnets {
		id := *s.RouteTable().RouteTableId()
		if !seen[id] {
			seen[id] = true
			out = append(out, s.RouteTable().RouteTableId())
		}
	}
	return out
}

// Ports returns the distinct ports in ports, sorted, so that rules and
// listeners built from them come out in a stable order.
func Ports(ports []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range ports {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// PinNoEgress keeps sg's inline "no traffic" egress placeholder. CDK drops
// it once a group has standalone egress rules, and EC2 then creates the
// group with its default allow-all rule, which CloudFormation removes only
// when the first standalone rule is created (and which nothing removes if
// there is none): with the placeholder pinned, the group never allows more
// than its standalone rules.
func PinNoEgress(sg awsec2.SecurityGroup) {
	sg.Node().DefaultChild().(awsec2.CfnSecurityGroup).AddPropertyOverride(jsii.String("SecurityGroupEgress"), []map[string]any{{
		"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86,
	}})
}
