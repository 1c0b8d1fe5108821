package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// The replacement guard: CloudFormation replaces a resource when its logical
// id goes away or a create-only property changes (the resource's published
// schema, createOnlyProperties), and then every resource whose create-only
// property references it. The schemas come with cfn-lint.

// schemas reads createOnlyProperties per resource type from cfn-lint's copy
// of the CloudFormation resource schemas (us-east-1).
type schemas struct {
	dir   string
	index map[string]string
	cache map[string][]string
}

var reSchemaIndex = regexp.MustCompile(`"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)": "([0-9a-f]+)"`)

func loadSchemas(t *testing.T) *schemas {
	t.Helper()
	home, _ := os.UserHomeDir()
	requireTool(t, "cfn-lint", filepath.Join(home, ".pyenv/shims/cfn-lint"))
	py := requireTool(t, "python3")
	out, err := exec.Command(py, "-c", "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))").Output()
	require.NoError(t, err, "cfn-lint's Python package")
	dir := filepath.Join(strings.TrimSpace(string(out)), "data", "schemas")
	b, err := os.ReadFile(filepath.Join(dir, "providers", "us_east_1.py"))
	require.NoError(t, err)
	s := &schemas{dir: dir, index: map[string]string{}, cache: map[string][]string{}}
	for _, m := range reSchemaIndex.FindAllStringSubmatch(string(b), -1) {
		s.index[m[1]] = m[2]
	}
	require.NotEmpty(t, s.index)
	return s
}

// createOnly returns the top-level create-only (and conditionally
// create-only) properties of typ.
func (s *schemas) createOnly(t *testing.T, typ string) []string {
	if v, ok := s.cache[typ]; ok {
		return v
	}
	var props []string
	if h, ok := s.index[typ]; ok {
		var schema struct {
			CreateOnly            []string `json:"createOnlyProperties"`
			ConditionalCreateOnly []string `json:"conditionalCreateOnlyProperties"`
		}
		readJSON(t, filepath.Join(s.dir, "resources", h+".json"), &schema)
		// A conditionally create-only property may replace: count it.
		for _, p := range append(schema.CreateOnly, schema.ConditionalCreateOnly...) {
			parts := strings.Split(strings.TrimPrefix(p, "/properties/"), "/")
			props = append(props, parts[0])
		}
	}
	s.cache[typ] = props
	return props
}

// refs returns the logical ids a value references (Ref, Fn::GetAtt).
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	case map[string]any:
		if r, ok := x["Ref"].(string); ok && len(x) == 1 {
			return []string{r}
		}
		if a, ok := x["Fn::GetAtt"].([]any); ok && len(x) == 1 && len(a) == 2 {
			return []string{a[0].(string)}
		}
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	}
	return out
}

// replacements returns, for one stack, the resources of before that the
// change to after deletes or replaces, with the reason.
func (s *schemas) replacements(t *testing.T, before, after Template) map[string]string {
	out := map[string]string{}
	for id, r := range before.Resources {
		n, ok := after.Resources[id]
		switch {
		case !ok:
			out[id] = "removed"
		case n.Type != r.Type:
			out[id] = "type changed"
		default:
			for _, p := range s.createOnly(t, r.Type) {
				if !reflect.DeepEqual(r.Properties[p], n.Properties[p]) {
					out[id] = "create-only " + p + " changed"
				}
			}
		}
	}
	// A replaced resource gets a new physical id: whatever names it in a
	// create-only property is replaced too.
	for changed := true; changed; {
		changed = false
		for id, r := range after.Resources {
			if _, done := out[id]; done {
				continue
			}
			if _, existed := before.Resources[id]; !existed {
				continue
			}
			for _, p := range s.createOnly(t, r.Type) {
				for _, ref := range refs(r.Properties[p]) {
					if why, ok := out[ref]; ok && why != "removed" {
						out[id] = "create-only " + p + " references " + ref + ", which is replaced"
						changed = true
					}
				}
			}
		}
	}
	return out
}

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
// README's runbook says the change replaces them.
func TestReplacementGuard(t *testing.T) {
	s := loadSchemas(t)
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
		old := synth(t, before)
		for _, c := range changes {
			t.Run(base.name+"/"+c.name, func(t *testing.T) {
				after, err := topology.Parse(c.name, []byte(c.edit(base.yaml)))
				require.NoError(t, err)
				cur := synth(t, after)
				expected := c.replaces
				if base.name == "tgw" {
					expected = append(append([]string(nil), expected...), c.replacesTGW...)
				}
				replaced := map[string]bool{}
				for _, stack := range sortedKeys(old.Stacks()) {
					if _, ok := cur.Stacks()[stack]; !ok {
						continue // a removed stack is the offboarding case
					}
					was, now := old.Template(t, stack), cur.Template(t, stack)
					for id, why := range s.replacements(t, was, now) {
						typ := was.Resources[id].Type
						t.Logf("%s/%s (%s): %s", stack, id, typ, why)
						if !guarded[typ] || why == "removed" && c.name == "remove a consumer" {
							continue
						}
						replaced[typ] = true
						if len(expected) == 0 {
							t.Errorf("%s/%s (%s) is replaced: %s", stack, id, typ, why)
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
