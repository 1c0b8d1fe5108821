package topology_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// wantWarning parses data, which must be valid, and requires a warning at
// path whose message contains want, naming a line.
func wantWarning(t *testing.T, data []byte, path, want string) {
	t.Helper()
	topo, err := topology.Parse("warn.yaml", data)
	require.NoError(t, err)
	for _, w := range topo.Warnings() {
		if w.Path == path && strings.Contains(w.Msg, want) {
			assert.True(t, strings.HasPrefix(w.Msg, "is ignored: "), w.Msg)
			assert.NotZero(t, w.Line, "the warning names a line")
			assert.Equal(t, "warn.yaml", w.File)
			return
		}
	}
	t.Errorf("no warning at %s containing %q in %v", path, want, topo.Warnings())
}

// TestIgnoredKeysWarn: a key that a mode ignores, harmlessly, is a warning
// that names it and says why; the topology is valid.
func TestIgnoredKeysWarn(t *testing.T) {
	proxyless, err := os.ReadFile("../examples/proxyless.yaml")
	require.NoError(t, err)
	none := func(p func(m map[string]any)) []byte { return patchYAML(t, proxyless, p) }
	proxylessTLS, err := os.ReadFile("../examples/proxyless-tls.yaml")
	require.NoError(t, err)
	for _, tt := range []struct {
		name, path, want string
		data             []byte
	}{
		{"an upstream name without proxies", "services[0].upstream", "never resolves it", none(func(m map[string]any) {
			at(m, "services", 0)["upstream"] = "internal-metrics-1.us-east-1.elb.amazonaws.com"
		})},
		{"route tables without proxies", "controlPlane.vpc.routeTableIds", "adds no routes", none(func(m map[string]any) {
			at(m, "controlPlane", "vpc")["routeTableIds"] = []any{"rtb-0a1b2c3d4e5f60718"}
		})},
		{"the main region's provider VPC without proxies", "regions", "creates no provider VPC", none(func(m map[string]any) {
			m["regions"] = []any{map[string]any{"region": "us-east-1", "cidr": "10.100.0.0/24", "availabilityZones": []any{"us-east-1a", "us-east-1b"}}}
		})},
		{"proxy sizing without proxies", "proxy.maxCapacity", "runs no proxies", none(func(m map[string]any) { at(m, "proxy")["maxCapacity"] = 6 })},
		{"a pinned image without proxies", "proxy.imageIds", "runs no proxies", none(func(m map[string]any) {
			at(m, "proxy")["imageIds"] = map[string]any{"us-east-1": "ami-0123456789abcdef0"}
		})},
		{"fleet monitoring without proxies", "monitoring.cpuPercent", "watches the proxies", none(func(m map[string]any) { m["monitoring"] = map[string]any{"cpuPercent": 70} })},
		{"proxy protocol without a header to lose", "proxy.proxyProtocol", "no proxy protocol header to an ALB target", none(func(m map[string]any) {
			at(m, "proxy")["proxyProtocol"], at(m, "proxy")["consumerHeader"] = true, false
		})},
		{"proxy protocol where every service passes TLS through", "proxy.proxyProtocol", "no proxies to attribute consumers", patchYAML(t, proxylessTLS, func(m map[string]any) {
			at(m, "proxy")["proxyProtocol"] = true
		})},
		{"an ALB ARN with proxies", "services[0].albArn", "reach the ALB by its DNS name", patched(t, func(m map[string]any) {
			at(m, "services", 0)["albArn"] = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/metrics/0123456789abcdef"
		})},
		{"a health check path with proxies", "services[0].healthCheckPath", "the proxies' own /healthz", patched(t, func(m map[string]any) {
			at(m, "services", 0)["healthCheckPath"] = "/health"
		})},
		{"the NLB's zones with proxies", "controlPlane.vpc.availabilityZones", "only proxy.mode none uses it", patched(t, func(m map[string]any) {
			at(m, "controlPlane", "vpc")["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b"}
		})},
		{"cluster subnets with peering", "controlPlane.vpc.subnetIds", "only interRegion tgw", patched(t, func(m map[string]any) {
			at(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f60718"}
		})},
		{"a mesh without tgw", "tgwMesh", "applies to interRegion tgw only", patched(t, func(m map[string]any) { m["tgwMesh"] = "full" })},
		{"an ASN without tgw", "regions[1].asn", "only interRegion tgw has Transit Gateways", patched(t, func(m map[string]any) { at(m, "regions", 1)["asn"] = 64600 })},
		{"StackSet settings with stacks", "stackSets", "consumerDeployment stacksets only", patched(t, func(m map[string]any) {
			m["stackSets"] = map[string]any{"regionConcurrency": "SEQUENTIAL"}
		})},
		{"a StackSet caller with stacks", "controlPlane.stackSetCallAs", "consumerDeployment stacksets only", patched(t, func(m map[string]any) {
			at(m, "controlPlane")["stackSetCallAs"] = "SELF"
		})},
	} {
		t.Run(tt.name, func(t *testing.T) { wantWarning(t, tt.data, tt.path, tt.want) })
	}
}

// TestKeysWhoseMeaningWouldChangeStayErrors: a key a mode cannot honour,
// where ignoring it would change what reaches the ALBs or who connects, is
// still an error.
func TestKeysWhoseMeaningWouldChangeStayErrors(t *testing.T) {
	proxyless, err := os.ReadFile("../examples/proxyless.yaml")
	require.NoError(t, err)
	stacksets, err := os.ReadFile("../examples/stacksets.yaml")
	require.NoError(t, err)
	for _, tt := range []struct {
		name, path, want string
		data             []byte
	}{
		{"a consumer header the ALBs would lose", "proxy.proxyProtocol", "whose ALB would stop getting it", patchYAML(t, proxyless, func(m map[string]any) {
			at(m, "proxy")["proxyProtocol"] = true
		})},
		{"consumer groups with stacks", "consumerGroups", "their OUs' accounts would not be connected", patchYAML(t, stacksets, func(m map[string]any) {
			m["consumerDeployment"] = "stacks"
			for i := range m["consumers"].([]any) {
				at(m, "consumers", i)["vpc"] = map[string]any{"cidr": "10.9.0.0/16", "availabilityZones": []any{at(m, "consumers", i)["region"].(string) + "a"}}
			}
		})},
		{"allowed CIDRs with stacksets", "consumers[0].allowedCidrs", "is not available with consumerDeployment stacksets", patchYAML(t, stacksets, func(m map[string]any) {
			at(m, "consumers", 0)["allowedCidrs"] = []any{"10.0.0.0/8"}
		})},
	} {
		t.Run(tt.name, func(t *testing.T) { wantFieldError(t, tt.data, tt.path, tt.want) })
	}
}

// bothModes holds the keys of proxy.mode nginx and of none: services
// with an upstream and an ALB ARN, the cluster VPC's subnets and zones for
// the NLB, its route tables and the main region's provider VPC for the
// proxies.
const bothModes = `
name: obs
interRegion: native
controlPlane:
  account: "111111111111"
  region: us-east-1
  vpc:
    id: vpc-0a1b2c3d4e5f60718
    cidr: 10.0.0.0/16
    subnetIds: [subnet-0a1b2c3d4e5f60718, subnet-0a1b2c3d4e5f60719]
    availabilityZones: [us-east-1a, us-east-1b]
    routeTableIds: [rtb-0a1b2c3d4e5f60718]
    albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]
services:
  - name: metrics
    upstream: internal-metrics-1.us-east-1.elb.amazonaws.com
    albArn: arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/metrics/0123456789abcdef
    upstreamPort: 80
regions:
  - region: us-east-1
    cidr: 10.100.0.0/24
    availabilityZones: [us-east-1a, us-east-1b]
proxy:
  mode: nginx
  minCapacity: 2
consumers:
  - name: app
    account: "222222222222"
    region: eu-west-1
    vpc:
      cidr: 10.9.0.0/16
      availabilityZones: [eu-west-1a]
`

// TestProxyModeSwitchIsOneLine: a file with both modes' keys validates in
// each mode, warning about the other's at their lines.
func TestProxyModeSwitchIsOneLine(t *testing.T) {
	for _, tt := range []struct {
		mode    string
		ignored map[string]string // path: the text of its line
	}{
		{"nginx", map[string]string{"controlPlane.vpc.availabilityZones": "availabilityZones: [us-east-1a, us-east-1b]", "controlPlane.vpc.subnetIds": "subnetIds:",
			"services[0].albArn": "albArn:"}},
		{"none", map[string]string{"services[0].upstream": "upstream:", "regions": "- region: us-east-1", "proxy.minCapacity": "minCapacity:",
			"controlPlane.vpc.routeTableIds": "routeTableIds:"}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			text := strings.Replace(bothModes, "mode: nginx", "mode: "+tt.mode, 1)
			topo, err := topology.Parse("both.yaml", []byte(text))
			require.NoError(t, err)
			got := map[string]int{}
			for _, w := range topo.Warnings() {
				got[w.Path] = w.Line
			}
			want := map[string]int{}
			for path, line := range tt.ignored {
				want[path] = lineOf(t, text, line)
			}
			assert.Equal(t, want, got)
			assert.Equal(t, tt.mode == "none", topo.Proxyless())
		})
	}
}

// TestExclusionsInASharedStackSetWarn: two groups with the same
// vpcParameters share one StackSet, and one group's excludeAccounts switches
// all of it to account-level targeting (AccountFilterType DIFFERENCE): one
// operation per OU and region, one after another. Valid, but said, at the
// excluding group's excludeAccounts, with the groups, the effect and the
// alternative. A group with names of its own has a StackSet of its own.
func TestExclusionsInASharedStackSetWarn(t *testing.T) {
	text, err := os.ReadFile("../examples/stacksets-organization.yaml")
	require.NoError(t, err)
	require.Contains(t, string(text), "vpcParameters: *acme-network", "data shares platform's names")
	topo, err := topology.Parse("shared.yaml", text)
	require.NoError(t, err)
	require.Len(t, topo.Warnings(), 1, "%v", topo.Warnings())
	w := topo.Warnings()[0]
	assert.Equal(t, "shared.yaml", w.File)
	assert.Equal(t, lineOf(t, string(text), "excludeAccounts:"), w.Line)
	assert.Equal(t, "consumerGroups[1].excludeAccounts", w.Path)
	assert.Equal(t, "makes the StackSet that data shares with platform (the same vpcParameters) target accounts: "+
		"with AccountFilterType DIFFERENCE every OU and region of every group in it becomes an operation of its own, run one after another, "+
		"and an update re-runs them all (docs/modes/consumer-deployment.md); give data vpcParameters names of its own "+
		"(a StackSet of its own), or accept the slower operations", w.Msg)

	own := strings.Replace(string(text), "vpcParameters: *acme-network", "vpcParameters: {vpcId: /data/vpc-id, subnetIds: /data/subnet-ids, cidr: /data/vpc-cidr}", 1)
	topo, err = topology.Parse("own.yaml", []byte(own))
	require.NoError(t, err)
	assert.Empty(t, topo.Warnings(), "data's exclusions touch its own StackSet only")
}
