package topology_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/obslink/obslink/topology"
)

// base is a small valid topology the cases below break one field at a time.
const base = `
name: obs
interRegion: peering
controlPlane:
  account: "111111111111"
  region: eu-west-1
  vpc:
    id: vpc-0a1b2c3d4e5f60718
    cidr: 10.0.0.0/16
    routeTableIds: [rtb-0a1b2c3d4e5f60718]
    albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]
services:
  - name: metrics
    upstream: internal-metrics-1.eu-west-1.elb.amazonaws.com
  - name: traces
    upstream: internal-traces-1.eu-west-1.elb.amazonaws.com
    protocol: grpc
    upstreamTls: true
regions:
  - region: eu-west-1
    cidr: 10.100.0.0/24
    availabilityZones: [eu-west-1a, eu-west-1b]
  - region: us-east-1
    cidr: 10.100.1.0/24
    availabilityZones: [us-east-1a, us-east-1b]
consumers:
  - name: app
    account: "222222222222"
    region: us-east-1
    vpc:
      cidr: 10.0.0.0/16
      availabilityZones: [us-east-1a]
`

// patched decodes base, applies patch to the generic document and re-encodes it.
func patched(t *testing.T, patch func(m map[string]any)) []byte {
	t.Helper()
	return patchYAML(t, []byte(base), patch)
}

// patchYAML decodes doc, applies patch (if any) to the generic document and
// re-encodes it.
func patchYAML(t *testing.T, doc []byte, patch func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(doc, &m))
	if patch != nil {
		patch(m)
	}
	out, err := yaml.Marshal(m)
	require.NoError(t, err)
	return out
}

func at(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

func TestParseValid(t *testing.T) {
	topo, err := topology.Parse("base.yaml", patched(t, nil))
	require.NoError(t, err)

	assert.Equal(t, "observability.internal", topo.Domain, "domain default")
	assert.Equal(t, topology.Peering, topo.InterRegion)
	assert.Equal(t, 80, topo.Services[0].Port, "http port default")
	assert.Equal(t, 4317, topo.Services[1].Port, "grpc port default")
	assert.Equal(t, topo.Services[1].Port, topo.Services[1].UpstreamPort, "upstream port defaults to port")
	assert.Equal(t, "t4g.small", topo.Proxy.InstanceType)
	assert.Equal(t, 2, topo.Proxy.Min())
	assert.Equal(t, 4, topo.Proxy.Max())
	assert.Equal(t, []string{"10.0.0.0/16"}, topo.Consumers[0].AllowedCIDRs, "allowed CIDRs default to the VPC CIDR")
	assert.Equal(t, []string{"222222222222"}, topo.ConsumerAccounts("us-east-1"))
	assert.Equal(t, topology.ImageCaptured, topo.Proxy.Image, "image default")
	assert.Equal(t, 1, topo.Proxy.Generation(), "image generation default")
	assert.Empty(t, topo.ConsumerAccounts("eu-west-1"))
}

func TestDefaultASNsAreStableAndDistinct(t *testing.T) {
	// Positions in the table are a contract: a Transit Gateway's ASN must not
	// change when regions are added to the table.
	assert.EqualValues(t, 64512, topology.DefaultASN("us-east-1"))
	assert.EqualValues(t, 64533, topology.DefaultASN("eu-west-1"))
	assert.EqualValues(t, 0, topology.DefaultASN("xx-north-1"))
}

func TestDefaultTopologyIsValid(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	assert.Len(t, topo.Consumers, 3)
	assert.Len(t, topo.Regions, 3)
	assert.Equal(t, "eu-west-1", topo.ControlPlane.Region)
}

func TestExamplesAreValid(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	require.NoError(t, err)
	envs, err := filepath.Glob("../environments/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range append(files, envs...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := topology.Load(f)
			assert.NoError(t, err)
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name  string
		patch func(m map[string]any)
		raw   string // used instead of patch when set
		path  string // the field path the error must name
		want  string // a part of the message (value or fix)
	}{
		{name: "unknown top-level key", patch: func(m map[string]any) { m["regoins"] = []any{} }, path: "regoins", want: "known keys here: name, domain"},
		{name: "unknown nested key", patch: func(m map[string]any) { at(m, "regions", 0)["zones"] = "x" }, path: "regions[0].zones", want: "unknown key"},
		{name: "missing name", patch: func(m map[string]any) { delete(m, "name") }, path: "name", want: "is missing"},
		{name: "bad name", patch: func(m map[string]any) { m["name"] = "Obs_Link" }, path: "name", want: `"Obs_Link"`},
		{name: "bad domain", patch: func(m map[string]any) { m["domain"] = "bad..domain" }, path: "domain", want: `"bad..domain"`},
		{name: "bad mode", patch: func(m map[string]any) { m["interRegion"] = "vpn" }, path: "interRegion", want: "peering, tgw, native"},
		{name: "account as number", patch: func(m map[string]any) { at(m, "controlPlane")["account"] = 111111111111 }, path: "controlPlane.account", want: "quote it"},
		{name: "account too short", patch: func(m map[string]any) { at(m, "consumers", 0)["account"] = "12345" }, path: "consumers[0].account", want: `"12345" is not a 12-digit`},
		{name: "account missing", patch: func(m map[string]any) { delete(at(m, "consumers", 0), "account") }, path: "consumers[0].account", want: "is missing"},
		{name: "bad region", patch: func(m map[string]any) { at(m, "controlPlane")["region"] = "europe-1" }, path: "controlPlane.region", want: `"europe-1"`},
		{name: "zone of another region", patch: func(m map[string]any) { at(m, "regions", 1)["availabilityZones"] = []any{"us-east-1a", "us-west-2b"} }, path: "regions[1].availabilityZones[1]", want: `"us-west-2b" is not an availability zone of us-east-1`},
		{name: "duplicate zone", patch: func(m map[string]any) { at(m, "regions", 1)["availabilityZones"] = []any{"us-east-1a", "us-east-1a"} }, path: "regions[1].availabilityZones[1]", want: "listed twice"},
		{name: "provider with one zone", patch: func(m map[string]any) { at(m, "regions", 0)["availabilityZones"] = []any{"eu-west-1a"} }, path: "regions[0].availabilityZones", want: "at least 2"},
		{name: "bad cidr", patch: func(m map[string]any) { at(m, "regions", 0)["cidr"] = "10.100.0.0/33" }, path: "regions[0].cidr", want: "not an IPv4 CIDR"},
		{name: "cidr host bits", patch: func(m map[string]any) { at(m, "regions", 0)["cidr"] = "10.100.0.1/24" }, path: "regions[0].cidr", want: "did you mean 10.100.0.0/24"},
		{name: "cidr too large for a VPC", patch: func(m map[string]any) { at(m, "regions", 0)["cidr"] = "10.0.0.0/8" }, path: "regions[0].cidr", want: "between /16 and /28"},
		{name: "provider overlaps cluster", patch: func(m map[string]any) { at(m, "regions", 0)["cidr"] = "10.0.1.0/24" }, path: "regions[0].cidr", want: "overlaps controlPlane.vpc.cidr"},
		{name: "providers overlap", patch: func(m map[string]any) { at(m, "regions", 1)["cidr"] = "10.100.0.0/25" }, path: "regions[1].cidr", want: "overlaps regions[0].cidr"},
		{name: "duplicate region", patch: func(m map[string]any) {
			at(m, "regions", 1)["region"] = "eu-west-1"
			at(m, "regions", 1)["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b"}
		}, path: "regions[1].region", want: "already the region of regions[0]"},
		{name: "no provider for consumer region", patch: func(m map[string]any) {
			c := at(m, "consumers", 0)
			c["region"] = "ap-south-1"
			at(c, "vpc")["availabilityZones"] = []any{"ap-south-1a"}
		}, path: "consumers[0].region", want: "has no provider"},
		{name: "native mode with a region outside main", patch: func(m map[string]any) { m["interRegion"] = "native" }, path: "regions[1].region", want: "in native mode"},
		{name: "no services", patch: func(m map[string]any) { m["services"] = []any{} }, path: "services", want: "is empty"},
		{name: "service name not a label", patch: func(m map[string]any) { at(m, "services", 0)["name"] = "Metrics_1" }, path: "services[0].name", want: "not a DNS label"},
		{name: "duplicate service", patch: func(m map[string]any) { at(m, "services", 1)["name"] = "metrics" }, path: "services[1].name", want: "already the name of services[0]"},
		{name: "upstream with scheme", patch: func(m map[string]any) { at(m, "services", 0)["upstream"] = "http://alb.example.com" }, path: "services[0].upstream", want: "without scheme"},
		{name: "upstream IP", patch: func(m map[string]any) { at(m, "services", 0)["upstream"] = "10.0.0.5" }, path: "services[0].upstream", want: "IP address"},
		{name: "bad protocol", patch: func(m map[string]any) { at(m, "services", 0)["protocol"] = "tcp" }, path: "services[0].protocol", want: "use http or grpc"},
		{name: "bad port", patch: func(m map[string]any) { at(m, "services", 0)["port"] = 70000 }, path: "services[0].port", want: "70000"},
		{name: "grpc shares http port", patch: func(m map[string]any) { at(m, "services", 1)["port"] = 80 }, path: "services[1].port", want: "need different ports"},
		{name: "health port taken", patch: func(m map[string]any) { at(m, "services", 0)["port"] = 8080 }, path: "services[0].port", want: "health checks"},
		{name: "min capacity zero", patch: func(m map[string]any) { m["proxy"] = map[string]any{"minCapacity": 0} }, path: "proxy.minCapacity", want: "at least 1"},
		{name: "max below min", patch: func(m map[string]any) { m["proxy"] = map[string]any{"minCapacity": 3, "maxCapacity": 2} }, path: "proxy.maxCapacity", want: "below minCapacity 3"},
		{name: "bad instance type", patch: func(m map[string]any) { m["proxy"] = map[string]any{"instanceType": "small"} }, path: "proxy.instanceType", want: `"small"`},
		{name: "duplicate consumer", patch: func(m map[string]any) { m["consumers"] = append(m["consumers"].([]any), m["consumers"].([]any)[0]) }, path: "consumers[1].name", want: "must be unique"},
		{name: "existing vpc without subnets", patch: func(m map[string]any) { at(m, "consumers", 0, "vpc")["id"] = "vpc-0fedcba9876543210" }, path: "consumers[0].vpc.subnetIds", want: "is missing"},
		{name: "subnets without vpc id", patch: func(m map[string]any) { at(m, "consumers", 0, "vpc")["subnetIds"] = []any{"subnet-0fedcba9876543210"} }, path: "consumers[0].vpc.subnetIds", want: "vpc.id is not"},
		{name: "subnet and zone counts differ", patch: func(m map[string]any) {
			v := at(m, "consumers", 0, "vpc")
			v["id"] = "vpc-0fedcba9876543210"
			v["subnetIds"] = []any{"subnet-0fedcba9876543210", "subnet-0fedcba9876543211"}
		}, path: "consumers[0].vpc.availabilityZones", want: "1 entries for 2 subnetIds"},
		{name: "bad vpc id", patch: func(m map[string]any) { at(m, "controlPlane", "vpc")["id"] = "vpc-xyz" }, path: "controlPlane.vpc.id", want: `"vpc-xyz"`},
		{name: "route tables missing for peering", patch: func(m map[string]any) { delete(at(m, "controlPlane", "vpc"), "routeTableIds") }, path: "controlPlane.vpc.routeTableIds", want: "is missing"},
		{name: "route tables missing for native", patch: func(m map[string]any) { // the main region's provider is peered
			m["interRegion"], m["regions"] = "native", m["regions"].([]any)[:1]
			delete(at(m, "controlPlane", "vpc"), "routeTableIds")
		}, path: "controlPlane.vpc.routeTableIds", want: "is missing"},
		{name: "bad allowed cidr", patch: func(m map[string]any) { at(m, "consumers", 0)["allowedCidrs"] = []any{"10.1.0.0"} }, path: "consumers[0].allowedCidrs[0]", want: "not an IPv4 CIDR"},
		{name: "bad associated vpc", patch: func(m map[string]any) { at(m, "consumers", 0)["associatedVpcIds"] = []any{"vpc-1"} }, path: "consumers[0].associatedVpcIds[0]", want: `"vpc-1"`},
		{name: "associated vpc twice", patch: func(m map[string]any) {
			at(m, "consumers", 0)["associatedVpcIds"] = []any{"vpc-0fedcba9876543210", "vpc-0fedcba9876543210"}
		}, path: "consumers[0].associatedVpcIds[1]", want: "listed twice"},
		{name: "negative gibPerDay", patch: func(m map[string]any) { at(m, "consumers", 0)["gibPerDay"] = -5 }, path: "consumers[0].gibPerDay", want: "-5 is out of range; give the average GiB per day its agents send, 0 to 1000000"},
		{name: "gibPerDay not a number", patch: func(m map[string]any) { at(m, "consumers", 0)["gibPerDay"] = "lots" }, path: "consumers[0].gibPerDay", want: `"lots" is not a number`},
		{name: "requestsPerSecond too large", patch: func(m map[string]any) { at(m, "consumers", 0)["requestsPerSecond"] = 2e6 }, path: "consumers[0].requestsPerSecond", want: "2e+06 is out of range"},
		{name: "tgw without attachment subnets", patch: func(m map[string]any) { m["interRegion"] = "tgw" }, path: "controlPlane.vpc.subnetIds", want: "one subnet per zone"},
		{name: "tgw duplicate asn", patch: func(m map[string]any) {
			m["interRegion"] = "tgw"
			at(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f60718"}
			at(m, "regions", 1)["asn"] = 64533 // eu-west-1's default
		}, path: "regions[1].asn", want: "also the ASN of eu-west-1"},
		{name: "asn out of range", patch: func(m map[string]any) { at(m, "regions", 0)["asn"] = 100 }, path: "regions[0].asn", want: "not a private ASN"},
		{name: "tgw region without default asn", patch: func(m map[string]any) {
			m["interRegion"] = "tgw"
			at(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f60718"}
			r := at(m, "regions", 1)
			r["region"] = "xx-north-1"
			r["availabilityZones"] = []any{"xx-north-1a", "xx-north-1b"}
			c := at(m, "consumers", 0)
			c["region"] = "xx-north-1"
			at(c, "vpc")["availabilityZones"] = []any{"xx-north-1a"}
		}, path: "regions[1].asn", want: "set asn"},
		{name: "bad alb security group", patch: func(m map[string]any) { at(m, "controlPlane", "vpc")["albSecurityGroupIds"] = []any{"sg-x"} }, path: "controlPlane.vpc.albSecurityGroupIds[0]", want: `"sg-x"`},
		{name: "bad mesh", patch: func(m map[string]any) { m["interRegion"] = "tgw"; m["tgwMesh"] = "star" }, path: "tgwMesh", want: "use hub or full"},
		{name: "bad provider account", patch: func(m map[string]any) { at(m, "controlPlane")["providerAccount"] = "12" }, path: "controlPlane.providerAccount", want: "not a 12-digit"},
		{name: "provider account with tgw", patch: func(m map[string]any) {
			m["interRegion"] = "tgw"
			at(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f60718"}
			at(m, "controlPlane")["providerAccount"] = "999999999999"
		}, path: "controlPlane.providerAccount", want: "use peering or native"},
		{name: "bad organization id", patch: func(m map[string]any) { at(m, "controlPlane")["organizationId"] = "o-ABC" }, path: "controlPlane.organizationId", want: `"o-ABC" is not an AWS Organizations id`},
		{name: "grpc in cleartext to the ALB", patch: func(m map[string]any) { delete(at(m, "services", 1), "upstreamTls") }, path: "services[1].protocol", want: "set upstreamTls: true"},
		{name: "no ALB ingress", patch: func(m map[string]any) { delete(at(m, "controlPlane", "vpc"), "albSecurityGroupIds") }, path: "controlPlane.vpc.albSecurityGroupIds", want: "albIngress: manual"},
		{name: "manual ALB ingress with groups", patch: func(m map[string]any) { at(m, "controlPlane", "vpc")["albIngress"] = "manual" }, path: "controlPlane.vpc.albIngress", want: "remove one of the two"},
		{name: "bad ALB ingress", patch: func(m map[string]any) { at(m, "controlPlane", "vpc")["albIngress"] = "auto" }, path: "controlPlane.vpc.albIngress", want: `"auto" is not a setting`},
		{name: "provider subnets too small", patch: func(m map[string]any) {
			at(m, "regions", 1)["cidr"] = "10.100.1.0/27"
		}, path: "regions[1].cidr", want: `"10.100.1.0/27" gives each of 2 zones a /28 with 11 usable addresses, but each zone needs 21: 8 for the NLB, 5 for the interface endpoints (Systems Manager, CloudWatch Logs, CloudFormation), 8 for proxies (2 x maxCapacity 4 during an instance refresh, over 1 zone(s) with one zone out); use a /26 or larger`},
		{name: "provider subnets too small with proxy protocol", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"maxCapacity": 60, "proxyProtocol": true}
		}, path: "regions[0].cidr", want: "each zone needs 134: 8 for the NLB, 6 for the interface endpoints (Systems Manager, CloudWatch Logs, CloudFormation, EC2)"},
		{name: "provider subnets too small for maxCapacity", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"maxCapacity": 60}
		}, path: "regions[0].cidr", want: "each zone needs 133"},
		{name: "zone id of another region", patch: func(m map[string]any) {
			at(m, "regions", 1)["availabilityZones"] = []any{"euw1-az1", "euw1-az2"}
		}, path: "regions[1].availabilityZones[0]", want: `"euw1-az1" is a zone id of eu-west-1, not of us-east-1; list zones of us-east-1, such as use1-az1`},
		{name: "zone id of a GovCloud region", patch: func(m map[string]any) {
			at(m, "consumers", 0, "vpc")["availabilityZones"] = []any{"usgw1-az1"}
		}, path: "consumers[0].vpc.availabilityZones[0]", want: `"usgw1-az1" is a zone id of us-gov-west-1, not of us-east-1`},
		{name: "zone id of no region", patch: func(m map[string]any) {
			at(m, "regions", 1)["availabilityZones"] = []any{"use1-az1", "xyz1-az2"}
		}, path: "regions[1].availabilityZones[1]", want: `"xyz1-az2" is not an availability zone of us-east-1; use a zone name (us-east-1a) or, better across accounts, a zone id (use1-az1)`},
		{name: "zone names and ids mixed", patch: func(m map[string]any) {
			at(m, "regions", 1)["availabilityZones"] = []any{"use1-az1", "us-east-1b"}
		}, path: "regions[1].availabilityZones", want: "mixes zone names and zone ids"},
		{name: "bad image source", patch: func(m map[string]any) { m["proxy"] = map[string]any{"image": "newest"} }, path: "proxy.image", want: `"newest" is not an image source`},
		{name: "consumer header without proxy protocol", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"proxyProtocol": false, "consumerHeader": true}
		}, path: "proxy.consumerHeader", want: "turn proxyProtocol on or drop consumerHeader"},
		{name: "bad image generation", patch: func(m map[string]any) { m["proxy"] = map[string]any{"imageGeneration": 0} }, path: "proxy.imageGeneration", want: "whole number from 1"},
		{name: "pins with latest", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"image": "latest", "imageIds": map[string]any{"eu-west-1": "ami-0123456789abcdef0"}}
		}, path: "proxy.imageIds", want: "remove one of the two"},
		{name: "pin for another region", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"imageIds": map[string]any{"sa-east-1": "ami-0123456789abcdef0"}}
		}, path: "proxy.imageIds.sa-east-1", want: "not a provider region"},
		{name: "bad pinned image", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"imageIds": map[string]any{"eu-west-1": "ami-xyz"}}
		}, path: "proxy.imageIds.eu-west-1", want: `"ami-xyz" is not an image id`},
		{name: "image pins as a list", patch: func(m map[string]any) {
			m["proxy"] = map[string]any{"imageIds": []any{"ami-0123456789abcdef0"}}
		}, path: "proxy.imageIds", want: "not a mapping"},
		{name: "bad alarm topic", patch: func(m map[string]any) { m["monitoring"] = map[string]any{"alarmTopicArn": "alarms"} }, path: "monitoring.alarmTopicArn", want: `"alarms" is not an SNS topic ARN`},
		{name: "threshold out of range", patch: func(m map[string]any) { m["monitoring"] = map[string]any{"cpuPercent": 40} }, path: "monitoring.cpuPercent", want: "40 is out of range; use 51 to 100"},
		{name: "network share out of range", patch: func(m map[string]any) { m["monitoring"] = map[string]any{"networkPercent": 0} }, path: "monitoring.networkPercent", want: "0 is out of range; use 1 to 100"},
		{name: "min healthy hosts above capacity", patch: func(m map[string]any) { m["monitoring"] = map[string]any{"minHealthyHosts": 3} }, path: "monitoring.minHealthyHosts", want: "3 is above proxy.minCapacity 2"},
		{name: "no consumers", patch: func(m map[string]any) { delete(m, "consumers") }, path: "consumers", want: "is empty"},
		{name: "list where a mapping belongs", patch: func(m map[string]any) { m["controlPlane"] = []any{"x"} }, path: "controlPlane", want: "not a mapping"},
		{name: "wrong scalar type", patch: func(m map[string]any) { at(m, "services", 0)["port"] = "eighty" }, path: "services[0].port", want: `"eighty" is not a whole number`},
		{name: "wrong bool", patch: func(m map[string]any) { at(m, "services", 0)["upstreamTls"] = "yes please" }, path: "services[0].upstreamTls", want: "not true or false"},
		{name: "not YAML", raw: "name: [unclosed", path: "(file)", want: "not valid YAML"},
		{name: "not a mapping", raw: "- a\n- b\n", path: "(file)", want: "must be a YAML mapping"},
		{name: "short account as number", raw: strings.Replace(base, `account: "222222222222"`, "account: 12345", 1), path: "consumers[0].account", want: `quote all 12 digits`},
		{name: "unquoted account in raw text", raw: strings.Replace(base, `account: "222222222222"`, "account: 222222222222", 1), path: "consumers[0].account", want: "written as a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.raw)
			if tt.raw == "" {
				data = patched(t, tt.patch)
			}
			_, err := topology.Parse("bad.yaml", data)
			require.Error(t, err)
			var errs topology.Errors
			require.True(t, errors.As(err, &errs), "want topology.Errors, got %T", err)
			var found bool
			for _, e := range errs {
				if e.Path == tt.path && strings.Contains(e.Msg, tt.want) {
					found = true
				}
				assert.Equal(t, "bad.yaml", e.File, "every error names the file")
			}
			assert.True(t, found, "no error at %s containing %q in:\n%v", tt.path, tt.want, err)
		})
	}
}

func TestZoneIDs(t *testing.T) {
	for region, prefix := range map[string]string{
		"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-2": "apse2", "ap-northeast-1": "apne1",
		"eu-central-1": "euc1", "ca-central-1": "cac1", "sa-east-1": "sae1", "us-gov-west-1": "usgw1",
	} {
		assert.Equal(t, prefix, topology.ZoneIDPrefix(region), region)
	}
	data := patched(t, func(m map[string]any) {
		at(m, "regions", 1)["availabilityZones"] = []any{"use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"}
		at(m, "consumers", 0, "vpc")["availabilityZones"] = []any{"use1-az4"}
	})
	topo, err := topology.Parse("ids.yaml", data)
	require.NoError(t, err, "zone ids are accepted wherever zone names are")
	assert.True(t, topology.IsZoneID(topo.Regions[1].AvailabilityZones[0]))
	assert.False(t, topology.IsZoneID("us-east-1a"))
}

// TestZoneIDOfAnotherRegion: a zone id whose prefix is another region's
// gets one error, at its line, that names the region it belongs to and the
// fix; the list is not also said to mix names and ids. obslink ships no
// table of each region's zone ids, so an id with the region's prefix passes
// whatever its number (docs/testing.md says so): AWS refuses it at deploy.
func TestZoneIDOfAnotherRegion(t *testing.T) {
	raw := strings.Replace(base, "availabilityZones: [us-east-1a, us-east-1b]\nconsumers:", "availabilityZones: [use1-az1, euw1-az2]\nconsumers:", 1)
	require.NotEqual(t, base, raw)
	line := 0
	for i, l := range strings.Split(raw, "\n") {
		if strings.Contains(l, "euw1-az2") {
			line = i + 1
		}
	}
	_, err := topology.Parse("zones.yaml", []byte(raw))
	var errs topology.Errors
	require.True(t, errors.As(err, &errs), "want topology.Errors, got %v", err)
	require.Len(t, errs, 1, "one error, not also a mix of names and ids: %v", err)
	assert.Equal(t, "zones.yaml:"+itoa(line)+`: regions[1].availabilityZones[1]: "euw1-az2" is a zone id of eu-west-1, not of us-east-1; list zones of us-east-1, such as use1-az1, use1-az2 (zone ids) or us-east-1a, us-east-1b (names)`, errs[0].Error())

	unknown := strings.Replace(raw, "euw1-az2", "use1-az9", 1)
	_, err = topology.Parse("zones.yaml", []byte(unknown))
	assert.NoError(t, err, "the prefix is checked, not the number: obslink has no table of a region's zone ids")
}

func TestAlarmTopicPerRegion(t *testing.T) {
	m := topology.Monitoring{AlarmTopicArn: "arn:aws:sns:eu-west-1:111111111111:obslink-alarms"}
	assert.Equal(t, "arn:aws:sns:us-east-1:111111111111:obslink-alarms", m.AlarmTopicArnIn("us-east-1"))
	assert.Equal(t, "", topology.Monitoring{}.AlarmTopicArnIn("us-east-1"))
	data := patched(t, func(m map[string]any) {
		m["monitoring"] = map[string]any{"alarmTopicArn": "arn:aws:sns:eu-west-1:111111111111:obslink-alarms", "minHealthyHosts": 2, "evaluationMinutes": 3}
	})
	topo, err := topology.Parse("monitoring.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, 2, *topo.Monitoring.MinHealthyHosts)
}

func TestManualALBIngress(t *testing.T) {
	data := patched(t, func(m map[string]any) {
		vpc := at(m, "controlPlane", "vpc")
		delete(vpc, "albSecurityGroupIds")
		vpc["albIngress"] = "manual"
	})
	topo, err := topology.Parse("manual.yaml", data)
	require.NoError(t, err)
	assert.Empty(t, topo.ControlPlane.VPC.ALBSecurityGroupIDs)
}

func TestMissingFieldNamesItsParentLine(t *testing.T) {
	raw := strings.Replace(base, "    albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]\n", "", 1)
	_, err := topology.Parse("missing.yaml", []byte(raw))
	require.Error(t, err)
	line := 0
	for i, l := range strings.Split(raw, "\n") {
		if strings.HasPrefix(l, "    id: vpc-") && line == 0 {
			line = i + 1 // the vpc mapping starts at its first key
		}
	}
	assert.Contains(t, err.Error(), "missing.yaml:"+itoa(line)+": controlPlane.vpc.albSecurityGroupIds: is missing")
}

func TestAllErrorsAtOnce(t *testing.T) {
	data := patched(t, func(m map[string]any) {
		m["name"] = "BAD"
		at(m, "controlPlane")["region"] = "nowhere"
		at(m, "consumers", 0)["account"] = "1"
	})
	_, err := topology.Parse("bad.yaml", data)
	var errs topology.Errors
	require.True(t, errors.As(err, &errs))
	paths := map[string]bool{}
	for _, e := range errs {
		paths[e.Path] = true
	}
	for _, p := range []string{"name", "controlPlane.region", "consumers[0].account"} {
		assert.True(t, paths[p], "missing error for %s in %v", p, err)
	}
}

func TestErrorsNameLines(t *testing.T) {
	raw := strings.Replace(base, "cidr: 10.100.1.0/24", "cidr: 10.100.1.0/99", 1)
	_, err := topology.Parse("lines.yaml", []byte(raw))
	require.Error(t, err)
	line := 0
	for i, l := range strings.Split(raw, "\n") {
		if strings.Contains(l, "10.100.1.0/99") {
			line = i + 1
		}
	}
	assert.Contains(t, err.Error(), "lines.yaml:"+itoa(line)+": regions[1].cidr")
}

func TestLoadMissingFile(t *testing.T) {
	_, err := topology.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

func itoa(i int) string {
	b, _ := yaml.Marshal(i)
	return strings.TrimSpace(string(b))
}

// TestStackSetsValidation: consumerDeployment stacksets needs the
// organization and its root, existing VPCs, one consumer per account and
// region; its fields are refused without it. Each error names the field.
func TestStackSetsValidation(t *testing.T) {
	example, err := os.ReadFile("../examples/stacksets.yaml")
	require.NoError(t, err)
	patch := func(p func(m map[string]any)) []byte { return patchYAML(t, example, p) }
	_, err = topology.Parse("ok.yaml", example)
	require.NoError(t, err)
	for _, tt := range []struct {
		name, path, want string
		data             []byte
	}{
		{"no organization", "controlPlane.organizationId", "deploys to your organization's accounts", patch(func(m map[string]any) { delete(at(m, "controlPlane"), "organizationId") })},
		{"no root", "controlPlane.organizationRootId", "list-roots", patch(func(m map[string]any) { delete(at(m, "controlPlane"), "organizationRootId") })},
		{"bad root", "controlPlane.organizationRootId", `"ou-a1b2" is not an organization root id`, patch(func(m map[string]any) { at(m, "controlPlane")["organizationRootId"] = "ou-a1b2" })},
		{"bad caller", "controlPlane.stackSetCallAs", "DELEGATED_ADMIN", patch(func(m map[string]any) { at(m, "controlPlane")["stackSetCallAs"] = "ADMIN" })},
		{"bad concurrency", "stackSets.regionConcurrency", "PARALLEL or SEQUENTIAL", patch(func(m map[string]any) { at(m, "stackSets")["regionConcurrency"] = "ALL" })},
		{"bad percentage", "stackSets.maxConcurrentPercentage", "use 1 to 100", patch(func(m map[string]any) { at(m, "stackSets")["maxConcurrentPercentage"] = 0 })},
		{"a VPC on a named consumer", "consumers[0].vpc", "comes from the SSM parameters its baseline writes", patch(func(m map[string]any) {
			at(m, "consumers", 0)["vpc"] = map[string]any{"id": "vpc-0b1c2d3e4f5a60718", "cidr": "10.20.0.0/16"}
		})},
		{"one OU in two groups", "consumerGroups[1].organizationalUnitIds[0]", "already an OU of consumerGroups[0]", patch(func(m map[string]any) {
			m["consumerGroups"] = append(m["consumerGroups"].([]any), map[string]any{"name": "more", "organizationalUnitIds": []any{"ou-a1b2-c3d4e5f6"}, "regions": []any{"us-east-1"}})
		})},
		{"two in one account and region", "consumers[1].region", "one stack instance per account and region", patch(func(m map[string]any) {
			c := at(m, "consumers", 1)
			c["account"], c["region"] = "222222222222", "eu-west-1"
		})},
		{"management account", "consumers[0].account", "management account", patch(func(m map[string]any) {
			at(m, "controlPlane")["stackSetCallAs"] = "SELF"
			at(m, "consumers", 0)["account"] = "444444444444"
		})},
		{"bad deployment", "consumerDeployment", "stacks (a CDK stack per consumer) or stacksets", patch(func(m map[string]any) { m["consumerDeployment"] = "cloudformation" })},
		{"groups without stacksets", "consumerGroups", "applies to consumerDeployment: stacksets only", patch(func(m map[string]any) { delete(m, "consumerDeployment") })},
		{"root as a group target", "consumerGroups[0].organizationalUnitIds[0]", "the root is not a group target", patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["organizationalUnitIds"] = []any{"r-a1b2"}
		})},
		{"group region without provider", "consumerGroups[0].regions[1]", `"ap-south-1" has no provider`, patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["regions"] = []any{"eu-west-1", "ap-south-1"}
		})},
		{"group named like a consumer", "consumerGroups[0].name", "already the name of consumers[0]", patch(func(m map[string]any) { at(m, "consumerGroups", 0)["name"] = "payments" })},
		{"bad SSM name", "consumerGroups[0].vpcParameters.vpcId", "not an SSM parameter name", patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["vpcParameters"] = map[string]any{"vpcId": "vpc id"}
		})},
		{"group without OUs", "consumerGroups[0].organizationalUnitIds", "is empty", patch(func(m map[string]any) { delete(at(m, "consumerGroups", 0), "organizationalUnitIds") })},
		{"bad excluded account", "consumerGroups[0].excludeAccounts[0]", "not a 12-digit AWS account id", patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["excludeAccounts"] = []any{"12345"}
		})},
		{"excluded account listed twice", "consumerGroups[0].excludeAccounts[1]", "is listed twice", patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["excludeAccounts"] = []any{"210987654321", "210987654321"}
		})},
		{"excluded account is a named consumer", "consumerGroups[0].excludeAccounts[0]", "also the account of consumers[0]", patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["excludeAccounts"] = []any{"222222222222"}
		})},
		{"negative expected accounts", "consumerGroups[0].expectedAccounts", "-3 is negative", patch(func(m map[string]any) {
			at(m, "consumerGroups", 0)["expectedAccounts"] = -3
		})},
	} {
		t.Run(tt.name, func(t *testing.T) { wantFieldError(t, tt.data, tt.path, tt.want) })
	}
}

func TestProxylessValidation(t *testing.T) {
	example, err := os.ReadFile("../examples/proxyless.yaml")
	require.NoError(t, err)
	patch := func(p func(m map[string]any)) []byte { return patchYAML(t, example, p) }
	topo, err := topology.Parse("ok.yaml", example)
	require.NoError(t, err)
	require.True(t, topo.Proxyless())
	require.Len(t, topo.Regions, 1, "the main region is the one provider region")
	assert.Equal(t, "us-east-1", topo.Regions[0].Region)
	assert.Empty(t, topo.Regions[0].CIDR, "no provider VPC")
	assert.Equal(t, []string{"us-east-1a", "us-east-1b", "us-east-1c"}, topo.Regions[0].AvailabilityZones)
	assert.Equal(t, "us-east-1", topo.ProviderRegionFor("ap-northeast-1"))

	// With tls: passthrough the NLB forwards the agents' TLS to the ALBs'
	// HTTPS listeners, gRPC included.
	b, err := os.ReadFile("../examples/proxyless-tls.yaml")
	require.NoError(t, err)
	tlsTopo, err := topology.Parse("proxyless-tls.yaml", b)
	require.NoError(t, err)
	assert.True(t, tlsTopo.Proxyless() && tlsTopo.TLSPassthrough())

	arn := func(region, account, kind string) string {
		return "arn:aws:elasticloadbalancing:" + region + ":" + account + ":loadbalancer/" + kind + "/x/0123456789abcdef"
	}
	for _, tt := range []struct {
		name, path, want string
		data             []byte
	}{
		{"bad mode", "proxy.mode", "use nginx", patch(func(m map[string]any) { at(m, "proxy")["mode"] = "direct" })},
		{"not native", "proxy.mode", "needs interRegion: native", patch(func(m map[string]any) { m["interRegion"] = "peering" })},
		{"a provider VPC in another region", "regions[0].region", "the main region us-east-1 serves every region", patch(func(m map[string]any) {
			m["regions"] = []any{map[string]any{"region": "eu-west-1", "cidr": "10.100.0.0/24", "availabilityZones": []any{"eu-west-1a", "eu-west-1b"}}}
		})},
		{"another provider account", "controlPlane.providerAccount", "in its account and VPC", patch(func(m map[string]any) { at(m, "controlPlane")["providerAccount"] = "999999999999" })},
		{"no subnets", "controlPlane.vpc.subnetIds", "puts the endpoint service's NLB in the cluster VPC", patch(func(m map[string]any) { delete(at(m, "controlPlane", "vpc"), "subnetIds") })},
		{"zones do not match subnets", "controlPlane.vpc.availabilityZones", "2 zone(s) for 3 subnet(s)", patch(func(m map[string]any) {
			at(m, "controlPlane", "vpc")["availabilityZones"] = []any{"us-east-1a", "us-east-1b"}
		})},
		{"zone of another region", "controlPlane.vpc.availabilityZones[2]", "not an availability zone of us-east-1", patch(func(m map[string]any) {
			at(m, "controlPlane", "vpc")["availabilityZones"] = []any{"us-east-1a", "us-east-1b", "eu-west-1c"}
		})},
		{"no ALB", "services[1].albArn", "is missing", patch(func(m map[string]any) { delete(at(m, "services", 1), "albArn") })},
		{"an NLB as target", "services[1].albArn", "not an Application Load Balancer ARN", patch(func(m map[string]any) {
			at(m, "services", 1)["albArn"] = arn("us-east-1", "111111111111", "net")
		})},
		{"an ALB of another account", "services[1].albArn", "only an ALB in its own VPC and account", patch(func(m map[string]any) {
			at(m, "services", 1)["albArn"] = arn("us-east-1", "222222222222", "app")
		})},
		{"an ALB of another region", "services[1].albArn", "is in eu-west-1", patch(func(m map[string]any) {
			at(m, "services", 1)["albArn"] = arn("eu-west-1", "111111111111", "app")
		})},
		{"shared port", "services[1].port", "is also services[0]'s port", patch(func(m map[string]any) { at(m, "services", 1)["port"] = 80 })},
		{"shared default port", "services[1].port", "routes by port alone", patch(func(m map[string]any) {
			delete(at(m, "services", 0), "port")
			delete(at(m, "services", 1), "port")
		})},
		{"three services on one ALB are fine", "", "", patch(func(m map[string]any) {
			one := at(m, "services", 0)["albArn"]
			at(m, "services", 1)["albArn"] = one
			m["services"] = append(m["services"].([]any), map[string]any{"name": "more", "port": 9000, "upstreamPort": 80, "albArn": one})
		})},
		{"six services", "services", "at most 5 services", patch(func(m map[string]any) {
			for i := 0; i < 4; i++ {
				m["services"] = append(m["services"].([]any), map[string]any{"name": fmt.Sprintf("more%d", i), "port": 9000 + i, "upstreamPort": 80,
					"albArn": at(m, "services", 0)["albArn"]})
			}
		})},
		{"default ports with passthrough", "services[1].port", "443 is also services[0]'s port", patch(func(m map[string]any) {
			m["tls"] = "passthrough"
			for i := range m["services"].([]any) {
				delete(at(m, "services", i), "port")
				at(m, "services", i)["upstreamTls"] = true
				at(m, "services", i)["upstreamPort"] = 443
			}
		})},
		{"no ALB listener port", "services[1].upstreamPort", "AWS refuses a target group whose port no listener of the ALB has", patch(func(m map[string]any) { delete(at(m, "services", 1), "upstreamPort") })},
		{"one subnet", "controlPlane.vpc.subnetIds", "at least 2 zones", patch(func(m map[string]any) {
			at(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f60718"}
			at(m, "controlPlane", "vpc")["availabilityZones"] = []any{"us-east-1a"}
		})},
		{"a subnet twice", "controlPlane.vpc.subnetIds[1]", "one subnet per zone", patch(func(m map[string]any) {
			at(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f6071a"}
		})},
		{"no ALB groups", "controlPlane.vpc.albSecurityGroupIds", "lets the NLB's security group in", patch(func(m map[string]any) {
			delete(at(m, "controlPlane", "vpc"), "albSecurityGroupIds")
		})},
		{"a health check path that is not one", "services[0].healthCheckPath", "starts with /", patch(func(m map[string]any) { at(m, "services", 0)["healthCheckPath"] = "health" })},
		{"proxy protocol", "proxy.proxyProtocol", "no proxy protocol header to an ALB target", patch(func(m map[string]any) { at(m, "proxy")["proxyProtocol"] = true })},
		{"two healthy ALBs", "monitoring.minHealthyHosts", "at most 1 can be healthy", patch(func(m map[string]any) { m["monitoring"] = map[string]any{"minHealthyHosts": 2} })},
		{"an HTTPS listener without passthrough", "services[1].upstreamTls", "set tls: passthrough", patch(func(m map[string]any) {
			at(m, "services", 1)["upstreamTls"] = true
			at(m, "services", 1)["upstreamPort"] = 443
		})},
		{"passthrough with an HTTP listener", "services[0].upstreamTls", "set upstreamTls: true", patch(func(m map[string]any) {
			m["tls"] = "passthrough"
			at(m, "services", 1)["upstreamTls"] = true
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path == "" {
				_, err := topology.Parse("ok.yaml", tt.data)
				require.NoError(t, err)
				return
			}
			wantFieldError(t, tt.data, tt.path, tt.want)
		})
	}
}

// wantFieldError parses data and requires an error at path whose message
// contains want, naming a line.
func wantFieldError(t *testing.T, data []byte, path, want string) {
	t.Helper()
	_, err := topology.Parse("bad.yaml", data)
	require.Error(t, err)
	var errs topology.Errors
	require.True(t, errors.As(err, &errs))
	for _, e := range errs {
		if e.Path == path && strings.Contains(e.Msg, want) {
			assert.NotZero(t, e.Line, "the error names a line")
			return
		}
	}
	t.Errorf("no error at %s containing %q in:\n%v", path, want, err)
}
