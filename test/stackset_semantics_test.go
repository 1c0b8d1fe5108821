package test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// This file models how CloudFormation runs a service-managed StackSet, from
// the synthesized AWS::CloudFormation::StackSet resources alone, so that a
// template that lints and synthesizes but would misdeploy fails here:
//   - parameters: a stack instance created with its instance group gets the
//     template's defaults, overridden by the StackSet's Parameters, then by
//     the group's ParameterOverrides; an account that automatic deployment
//     adds later gets the defaults and the StackSet's Parameters only, never
//     a group's overrides (UpdateStackInstances API reference);
//   - operations: one CreateStackInstances, UpdateStackInstances or
//     DeleteStackInstances call takes at most 50 OUs. The StackSet
//     resource's handler (aws-cloudformation-resource-providers-cloudformation,
//     aws-cloudformation-stackset) picks one of two paths: when any target
//     has an AccountFilterType, one operation per instance group, OU and
//     region; otherwise it flattens the groups to (OU, region, overrides)
//     and merges every OU with the same set of regions and the same
//     overrides into one call;
//   - concurrency: percentages round down, a concurrency of 0 is 1, and
//     under STRICT_FAILURE_TOLERANCE (the API's default when ConcurrencyMode
//     is absent) at most tolerance + 1 accounts deploy at once.

// ssModel is one synthesized StackSet as the service sees it.
type ssModel struct {
	Name       string
	Defaults   map[string]string // the template's parameter defaults
	Parameters map[string]string // the StackSet's own parameters (literal values)
	AutoDeploy bool
	Groups     []ssGroup
	Prefs      map[string]any
}

// ssGroup is one StackInstancesGroup.
type ssGroup struct {
	OUs       []string
	Accounts  []string
	Filter    string
	Regions   []string
	Overrides map[string]string
}

// parameterList reads a [{ParameterKey, ParameterValue}] list; values that
// are not literal strings (tokens) are kept as their JSON.
func parameterList(v any) map[string]string {
	out := map[string]string{}
	list, _ := v.([]any)
	for _, p := range list {
		p := p.(map[string]any)
		val, ok := p["ParameterValue"].(string)
		if !ok {
			val = js(p["ParameterValue"])
		}
		out[p["ParameterKey"].(string)] = val
	}
	return out
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		out = append(out, s.(string))
	}
	return out
}

// readStackSets models every StackSet of the stack's template.
func readStackSets(t *testing.T, a Assembly, stack string) []ssModel {
	t.Helper()
	var out []ssModel
	for _, r := range a.Template(t, stack).Of("AWS::CloudFormation::StackSet") {
		p := r.Properties
		m := ssModel{Name: p["StackSetName"].(string), Parameters: parameterList(p["Parameters"]), Defaults: map[string]string{}}
		var body struct {
			Parameters map[string]struct{ Default string }
		}
		require.NoError(t, json.Unmarshal([]byte(p["TemplateBody"].(string)), &body))
		for k, v := range body.Parameters {
			if v.Default != "" {
				m.Defaults[k] = v.Default
			}
		}
		if ad, ok := p["AutoDeployment"].(map[string]any); ok {
			m.AutoDeploy, _ = ad["Enabled"].(bool)
		}
		m.Prefs, _ = p["OperationPreferences"].(map[string]any)
		groups, _ := p["StackInstancesGroup"].([]any)
		for _, g := range groups {
			g := g.(map[string]any)
			dt := g["DeploymentTargets"].(map[string]any)
			filter, _ := dt["AccountFilterType"].(string)
			m.Groups = append(m.Groups, ssGroup{
				OUs: strs(dt["OrganizationalUnitIds"]), Accounts: strs(dt["Accounts"]), Filter: filter,
				Regions: strs(g["Regions"]), Overrides: parameterList(g["ParameterOverrides"]),
			})
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// firstDeploy is what an instance created with group g gets.
func (m ssModel) firstDeploy(g ssGroup) map[string]string {
	out := m.autoDeployed()
	for k, v := range g.Overrides {
		out[k] = v
	}
	return out
}

// autoDeployed is what an account that joins a target OU later gets.
func (m ssModel) autoDeployed() map[string]string {
	out := map[string]string{}
	for k, v := range m.Defaults {
		out[k] = v
	}
	for k, v := range m.Parameters {
		out[k] = v
	}
	return out
}

// effective is how many of n accounts deploy at once in a region, and how
// many may fail there.
func (m ssModel) effective(n int) (concurrent, tolerated int) {
	pct := func(key string) int {
		f, _ := m.Prefs[key].(float64)
		return int(f)
	}
	tolerated = n * pct("FailureTolerancePercentage") / 100
	concurrent = max(n*pct("MaxConcurrentPercentage")/100, 1)
	if mode, _ := m.Prefs["ConcurrencyMode"].(string); mode != "SOFT_FAILURE_TOLERANCE" {
		concurrent = min(concurrent, tolerated+1)
	}
	return concurrent, tolerated
}

// maxOUsPerOperation is the most OUs one of the handler's calls carries.
func (m ssModel) maxOUsPerOperation() int {
	for _, g := range m.Groups {
		if g.Filter != "" {
			return 1 // account-level targeting: an operation per OU and region
		}
	}
	regionsOf := map[string][]string{} // OU + overrides -> regions
	for _, g := range m.Groups {
		for _, ou := range g.OUs {
			key := ou + "\x00" + js(g.Overrides)
			regionsOf[key] = append(regionsOf[key], g.Regions...)
		}
	}
	calls := map[string]int{} // regions + overrides -> OUs
	for key, regions := range regionsOf {
		sort.Strings(regions)
		overrides := key[strings.IndexByte(key, 0)+1:]
		calls[strings.Join(regions, ",")+"\x00"+overrides]++
	}
	most := 0
	for _, n := range calls {
		most = max(most, n)
	}
	return most
}

// groupsIn finds the StackSet and instance groups that target group g's OUs.
func groupsIn(sets []ssModel, g topology.ConsumerGroup) (ssModel, []ssGroup) {
	for _, m := range sets {
		var found []ssGroup
		for _, sg := range m.Groups {
			for _, ou := range sg.OUs {
				if containsStr(g.OrganizationalUnitIDs, ou) {
					found = append(found, sg)
					break
				}
			}
		}
		if len(found) > 0 {
			return m, found
		}
	}
	return ssModel{}, nil
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkGroupSemantics asserts, for every consumer group of topo, what
// CloudFormation does with the synthesized StackSets.
func checkGroupSemantics(t *testing.T, file string, topo *topology.Topology, a Assembly) {
	t.Helper()
	sets := readStackSets(t, a, topo.Name+"-consumers")
	for _, m := range sets {
		assert.Equal(t, "SOFT_FAILURE_TOLERANCE", m.Prefs["ConcurrencyMode"], "%s: StackSet %s: concurrency independent of the failure tolerance", file, m.Name)
		for _, n := range []int{5, 500} {
			c, _ := m.effective(n)
			assert.GreaterOrEqual(t, c, max(n*topo.StackSets.MaxConcurrent()/100, 1), "%s: StackSet %s: %d accounts in a region deploy %d at a time", file, m.Name, n, c)
		}
		assert.LessOrEqual(t, m.maxOUsPerOperation(), 50, "%s: StackSet %s: OUs in one StackInstances operation", file, m.Name)
	}
	for _, g := range topo.ConsumerGroups {
		m, found := groupsIn(sets, g)
		require.NotEmpty(t, found, "%s: group %s has no StackSet instance group", file, g.Name)
		id, subnets, cidr := g.VPCParameters.Names()
		want := map[string]string{"VpcId": id, "SubnetIds": subnets, "VpcCidr": cidr}
		pick := func(p map[string]string) map[string]string {
			return map[string]string{"VpcId": p["VpcId"], "SubnetIds": p["SubnetIds"], "VpcCidr": p["VpcCidr"]}
		}
		assert.True(t, m.AutoDeploy, "%s: group %s: accounts that join its OUs are deployed", file, g.Name)
		assert.Equal(t, want, pick(m.autoDeployed()), "%s: group %s: an account auto-deployed later reads these SSM names", file, g.Name)
		var ous []string
		for _, sg := range found {
			assert.Equal(t, want, pick(m.firstDeploy(sg)), "%s: group %s: an account deployed first reads these SSM names", file, g.Name)
			assert.Equal(t, g.Regions, sg.Regions, "%s: group %s: regions", file, g.Name)
			ous = append(ous, sg.OUs...)
			excluded := append([]string(nil), g.ExcludeAccounts...)
			sort.Strings(excluded)
			if len(excluded) > 0 {
				assert.Equal(t, "DIFFERENCE", sg.Filter, "%s: group %s: excluded accounts", file, g.Name)
				assert.Equal(t, excluded, sg.Accounts, "%s: group %s: excluded accounts", file, g.Name)
			} else {
				assert.Empty(t, sg.Accounts, "%s: group %s: every account of the OUs", file, g.Name)
			}
		}
		assert.ElementsMatch(t, g.OrganizationalUnitIDs, ous, "%s: group %s: every OU, once", file, g.Name)
	}
	// Named consumers: each one's instance, in its region, reads the
	// default names (there is no per-account override).
	for _, c := range topo.Consumers {
		var hit bool
		for _, m := range sets {
			for _, sg := range m.Groups {
				if containsStr(sg.Accounts, c.Account) && sg.Filter == "INTERSECTION" && containsStr(sg.Regions, c.Region) {
					hit = true
					assert.Equal(t, topology.DefaultVpcIDParameter, m.firstDeploy(sg)["VpcId"], "%s: consumer %s", file, c.Name)
				}
			}
		}
		assert.True(t, hit, "%s: consumer %s has a stack instance", file, c.Name)
	}
}

// TestStackSetSemantics synthesizes every example with consumer groups and
// checks the StackSets against the model above.
func TestStackSetSemantics(t *testing.T) {
	n := 0
	for _, nt := range allTopologies(t) {
		if len(nt.topo.ConsumerGroups) == 0 {
			continue
		}
		n++
		t.Run(nt.file, func(t *testing.T) {
			checkGroupSemantics(t, nt.file, nt.topo, synth(t, nt.topo))
		})
	}
	assert.GreaterOrEqual(t, n, 2, "examples with consumer groups")
}

// TestStackSetOUsPerOperation: groups that share vpcParameters share a
// StackSet, whose handler merges the OUs of groups with the same regions
// into one operation. 30 + 30 OUs in different regions synthesize into
// operations of at most 50 OUs; in the same regions validation refuses
// them, as it refuses one group of 51.
func TestStackSetOUsPerOperation(t *testing.T) {
	b, rerr := os.ReadFile("../examples/stacksets-organization.yaml")
	require.NoError(t, rerr)
	ous := func(prefix string, n int) string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("ou-ac01-%s%05d", prefix, i))
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	raw := string(b)
	raw = strings.Replace(raw, "organizationalUnitIds: [ou-ac01-platform1]", "organizationalUnitIds: "+ous("plat", 30), 1)
	raw = strings.Replace(raw, "organizationalUnitIds: [ou-ac01-dataeng01, ou-ac01-analytics]", "organizationalUnitIds: "+ous("data", 30), 1)
	raw = strings.Replace(raw, "    excludeAccounts: [\"210987654321\"]\n", "", 1) // the handler's merging path
	require.NotContains(t, raw, "excludeAccounts")

	topo, err := topology.Parse("sixty-ous.yaml", []byte(raw))
	require.NoError(t, err, "30 OUs in two regions and 30 in one: two operations")
	a := synth(t, topo)
	checkGroupSemantics(t, "sixty-ous.yaml", topo, a)
	for _, m := range readStackSets(t, a, "acme-consumers") {
		if len(m.Groups) == 2 {
			assert.Equal(t, 30, m.maxOUsPerOperation())
		}
	}

	same := strings.Replace(raw, "    regions: [eu-west-1]\n    expectedAccounts: 20", "    regions: [eu-west-1, us-east-1]\n    expectedAccounts: 20", 1)
	require.NotEqual(t, raw, same)
	_, err = topology.Parse("sixty-ous-same-regions.yaml", []byte(same))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "consumerGroups[1].organizationalUnitIds: lists 30 OUs with consumerGroups[0]")
	assert.Contains(t, err.Error(), "60 in all: one StackSet operation takes at most 50 OUs; target their parent OUs")

	one := strings.Replace(raw, "organizationalUnitIds: [ou-ac01-sandbox01]", "organizationalUnitIds: "+ous("sand", 51), 1)
	_, err = topology.Parse("51-ous.yaml", []byte(one))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "consumerGroups[2].organizationalUnitIds: lists 51 OUs, 51 in all")
}

// TestGroupStackSetOrder: a StackSet of other SSM names depends on the
// default names' StackSet, so a group that moves out of it loses its
// instances there before the new StackSet creates them (two private zones
// of one name cannot share a VPC).
func TestGroupStackSetOrder(t *testing.T) {
	b, err := os.ReadFile("../examples/stacksets.yaml")
	require.NoError(t, err)
	raw := string(b) + "  - name: sandbox\n    organizationalUnitIds: [ou-a1b2-sandbox01]\n    regions: [us-east-1]\n    vpcParameters: {vpcId: /sandbox/vpc/id, subnetIds: /sandbox/vpc/subnets, cidr: /sandbox/vpc/cidr}\n"
	topo, err := topology.Parse("two-sets.yaml", []byte(raw))
	require.NoError(t, err)
	a := synth(t, topo)
	checkGroupSemantics(t, "two-sets.yaml", topo, a)
	ids := map[string]string{}
	deps := map[string]any{}
	for id, r := range a.Template(t, "obsset-consumers").Of("AWS::CloudFormation::StackSet") {
		ids[r.Properties["StackSetName"].(string)] = id
		deps[r.Properties["StackSetName"].(string)] = r.DependsOn
	}
	require.Len(t, ids, 3)
	var other string
	for name := range ids {
		if strings.HasPrefix(name, "obsset-consumer-groups-") {
			other = name
		}
	}
	require.NotEmpty(t, other)
	assert.Contains(t, js(deps[other]), ids["obsset-consumer-groups"])
	assert.Nil(t, deps["obsset-consumer-groups"])
}
