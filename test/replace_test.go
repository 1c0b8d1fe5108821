package test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/cfndiff"
	"github.com/obslink/obslink/topology"
)

// The replacement guard: CloudFormation replaces a resource when its logical
// id goes away or a create-only property changes (the resource's published
// schema, createOnlyProperties), and then every resource whose create-only
// property references it. obslink diff works this out (internal/cfndiff);
// the guard runs the same code on each kind of change.

// guarded are the resources whose replacement breaks consumers or links:
// endpoints and the service change names, peerings and gateways change ids.
var guarded = map[string]bool{
	"AWS::EC2::VPC":                                 true,
	"AWS::EC2::Subnet":                              true,
	"AWS::EC2::VPCEndpointService":                  true,
	"AWS::EC2::VPCEndpoint":                         true,
	"AWS::ElasticLoadBalancingV2::LoadBalancer":     true,
	"AWS::EC2::VPCPeeringConnection":                true,
	"AWS::EC2::TransitGateway":                      true,
	"AWS::EC2::TransitGatewayVpcAttachment":         true,
	"AWS::EC2::TransitGatewayPeeringAttachment":     true,
	"AWS::Route53::HostedZone":                      true,
	"AWS::EC2::TransitGatewayRouteTable":            true,
	"AWS::EC2::TransitGatewayRouteTableAssociation": true,
}

// topologyChange is one edit a user makes to a topology file.
type topologyChange struct {
	name string
	edit func(y string) string
	// replaces lists guarded resource types the change must replace (the
	// runbook's cases); empty: nothing guarded may be replaced.
	replaces []string
	// replacesTGW: the same, for interRegion tgw only.
	replacesTGW []string
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old)
	return strings.Replace(s, old, new, 1)
}

// TestReplacementGuard applies each kind of change a user makes to the
// default topology (peering) and to examples/tgw.yaml, synthesizes before and
// after, and proves that no endpoint service, NLB, endpoint, peering,
// gateway or attachment of an existing stack is replaced, except where the
// docs/operations.md's runbook says the change replaces them.
func TestReplacementGuard(t *testing.T) {
	tgwYAML, err := os.ReadFile("../examples/tgw.yaml")
	require.NoError(t, err)
	bases := []struct {
		name, yaml string
	}{{"default", string(topology.DefaultYAML())}, {"tgw", string(tgwYAML)}}
	changes := []topologyChange{
		{name: "add a consumer", edit: func(y string) string {
			return y + "  - {name: newcomer, account: \"444444444444\", region: eu-west-1, vpc: {cidr: 10.9.0.0/16, availabilityZones: [eu-west-1a, eu-west-1b]}}\n"
		}},
		{name: "remove a consumer", edit: func(y string) string {
			i := strings.LastIndex(y, "\n  - name: ")
			return y[:i+1]
		}},
		{name: "add a region", edit: func(y string) string {
			return replaceOnce(t, y, "\nregions:\n", "\nregions:\n  - {region: sa-east-1, cidr: 10.100.9.0/24, availabilityZones: [sa-east-1a, sa-east-1b, sa-east-1c]}\n")
		}},
		{name: "change the instance type", edit: func(y string) string { return setProxy(y, "instanceType", "m7g.large") }},
		{name: "change capacity", edit: func(y string) string { return setProxy(setProxy(y, "minCapacity", "3"), "maxCapacity", "6") }},
		{name: "add a service", edit: func(y string) string {
			return replaceOnce(t, y, "\nservices:\n", "\nservices:\n  - {name: profiles, upstream: internal-profiles-1.eu-west-1.elb.amazonaws.com, port: 9090}\n")
		}},
		{name: "change a port", edit: func(y string) string {
			return replaceOnce(t, y, "    upstream: internal-metrics-alb-123.eu-west-1.elb.amazonaws.com\n",
				"    upstream: internal-metrics-alb-123.eu-west-1.elb.amazonaws.com\n    port: 8000\n")
		}},
		{name: "turn on upstream TLS", edit: func(y string) string {
			return replaceOnce(t, y, "    upstream: internal-metrics-alb-123.eu-west-1.elb.amazonaws.com\n",
				"    upstream: internal-metrics-alb-123.eu-west-1.elb.amazonaws.com\n    upstreamTls: true\n    upstreamPort: 443\n")
		}},
		// In tgw mode the provider's VPC attachment names its subnets in a
		// create-only property: a new zone is a new attachment (runbook).
		{name: "add a zone without a new split", edit: func(y string) string {
			return replaceOnce(t, y, "[eu-west-1a, eu-west-1b, eu-west-1c]", "[eu-west-1a, eu-west-1b, eu-west-1c, eu-west-1d]")
		}, replacesTGW: []string{"AWS::EC2::TransitGatewayVpcAttachment"}},
		// The runbook's cases. A zone count that crosses a power of two
		// splits the CIDR anew: every subnet of the provider is replaced.
		{name: "remove a zone", edit: func(y string) string {
			return replaceOnce(t, y, "[eu-west-1a, eu-west-1b, eu-west-1c]", "[eu-west-1a, eu-west-1b]")
		}, replaces: []string{"AWS::EC2::Subnet"}},
		// A new provider CIDR is a new VPC, and with it
		// new subnets, a new peering (tgw: a new attachment).
		{name: "change a provider CIDR", edit: func(y string) string {
			return replaceOnce(t, y, "cidr: 10.100.0.0/24", "cidr: 10.100.8.0/24")
		}, replaces: []string{"AWS::EC2::VPC", "AWS::EC2::Subnet"}},
	}
	for _, base := range bases {
		before, err := topology.Parse(base.name, []byte(base.yaml))
		require.NoError(t, err)
		old := readStacks(t, synth(t, before))
		for _, c := range changes {
			t.Run(base.name+"/"+c.name, func(t *testing.T) {
				after, err := topology.Parse(c.name, []byte(c.edit(base.yaml)))
				require.NoError(t, err)
				report, err := cfndiff.Compare(old, readStacks(t, synth(t, after)))
				require.NoError(t, err)
				expected := c.replaces
				if base.name == "tgw" {
					expected = append(append([]string(nil), expected...), c.replacesTGW...)
				}
				replaced := map[string]bool{}
				for _, stack := range report.Stacks {
					if stack.Kind != cfndiff.Modified {
						continue // a removed stack is the offboarding case
					}
					for _, r := range stack.Template.Resources {
						if r.Kind != cfndiff.Replaced && r.Kind != cfndiff.Removed {
							continue
						}
						why := strings.Join(r.Why, "; ")
						if r.Kind == cfndiff.Removed {
							why = "removed"
						}
						t.Logf("%s/%s (%s): %s", stack.Name, r.ID, r.Type, why)
						if !guarded[r.Type] || r.Kind == cfndiff.Removed && c.name == "remove a consumer" {
							continue
						}
						replaced[r.Type] = true
						if len(expected) == 0 {
							t.Errorf("%s/%s (%s) is replaced: %s", stack.Name, r.ID, r.Type, why)
						}
					}
				}
				for _, typ := range expected {
					assert.True(t, replaced[typ], "%s replaces %s (runbook case), the guard saw %v", c.name, typ, keysOf(replaced))
				}
			})
		}
	}
}

// readStacks reads a synthesized assembly as obslink diff does.
func readStacks(t *testing.T, a Assembly) []cfndiff.Stack {
	t.Helper()
	stacks, err := cfndiff.ReadAssembly(a.Dir)
	require.NoError(t, err)
	return stacks
}

// TestCreateOnlyTableCoversEveryType: every resource type the default
// topology, the examples and the environments synthesize (the StackSets'
// templates included) is in obslink diff's create-only table, so that no
// replacement goes unnoticed.
func TestCreateOnlyTableCoversEveryType(t *testing.T) {
	table, err := cfndiff.CreateOnlyTable()
	require.NoError(t, err)
	missing := map[string]bool{}
	var check func(tpl cfndiff.Template)
	check = func(tpl cfndiff.Template) {
		for _, r := range tpl.Resources {
			if !table.Known(r.Type) {
				missing[r.Type] = true
			}
			if body, ok := r.Properties["TemplateBody"].(string); ok {
				nested, err := cfndiff.ParseTemplate([]byte(body))
				require.NoError(t, err)
				check(nested)
			}
		}
	}
	for _, nt := range allTopologies(t) {
		for _, s := range readStacks(t, nt.synth(t)) {
			check(s.Template)
		}
	}
	assert.Empty(t, keysOf(missing), "add them: UPDATE_CREATEONLY=%s go test ./internal/cfndiff -run TestCreateOnlyTable", strings.Join(keysOf(missing), ","))
}

// setProxy sets proxy.<key> in a topology file's text.
func setProxy(y, key, value string) string {
	line := regexp.MustCompile(`(?m)^  ` + key + `: .*$`)
	if i := strings.Index(y, "\nproxy:\n"); i >= 0 {
		if line.MatchString(y[i:]) {
			return y[:i] + line.ReplaceAllString(y[i:], "  "+key+": "+value)
		}
		return strings.Replace(y, "\nproxy:\n", "\nproxy:\n  "+key+": "+value+"\n", 1)
	}
	return strings.Replace(y, "\nconsumers:\n", "\nproxy:\n  "+key+": "+value+"\nconsumers:\n", 1)
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
