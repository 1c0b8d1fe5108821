package deployment_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/topology"
)

func TestEffectiveConcurrency(t *testing.T) {
	soft := deployment.Preferences{ConcurrencyMode: deployment.SoftFailureTolerance, MaxConcurrentPercentage: 25, FailureTolerancePercentage: 10}
	strict := soft
	strict.ConcurrencyMode = deployment.StrictFailureTolerance
	tests := []struct {
		name                     string
		prefs                    deployment.Preferences
		accounts                 int
		wantConcurrent, wantTolr int
	}{
		{"soft, 5 accounts: 25 % rounds to 1", soft, 5, 1, 0},
		{"soft, 9 accounts", soft, 9, 2, 0},
		{"soft, 500 accounts", soft, 500, 125, 50},
		{"strict, 9 accounts: 10 % of 9 is 0, one at a time", strict, 9, 1, 0},
		{"strict, 500 accounts: tolerance + 1", strict, 500, 51, 50},
		{"no mode is strict", deployment.Preferences{MaxConcurrentPercentage: 25, FailureTolerancePercentage: 10}, 500, 51, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, tol := tt.prefs.Effective(tt.accounts)
			assert.Equal(t, tt.wantConcurrent, c)
			assert.Equal(t, tt.wantTolr, tol)
		})
	}
}

// TestStackSetsPerParameterSet: groups that share vpcParameters share a
// StackSet whose own parameters are those names; another set gets a
// StackSet named after a hash of its names; excluded accounts are a DIFFERENCE
// filter; the named consumers' StackSet reads the default names.
func TestStackSetsPerParameterSet(t *testing.T) {
	topo, err := topology.Load("../examples/stacksets-organization.yaml")
	require.NoError(t, err)
	d := deployment.Resolve(topo)
	require.Len(t, d.StackSets, 2)
	second, first := d.StackSets[0], d.StackSets[1] // sorted by name
	assert.Equal(t, "acme-consumer-groups-84918ba0", first.Name, "named after a hash of its SSM names")
	assert.Equal(t, "ConsumerGroups84918ba0", first.ID)
	assert.Equal(t, []string{"platform", "data"}, first.Groups)
	assert.Equal(t, deployment.VPCParameters{VpcID: "/acme/network/vpc-id", SubnetIDs: "/acme/network/private-subnet-ids", CIDR: "/acme/network/vpc-cidr"}, first.Parameters)
	assert.True(t, first.AutoDeployment)
	assert.Equal(t, deployment.SoftFailureTolerance, first.Preferences.ConcurrencyMode)
	require.Len(t, first.Instances, 2)
	assert.Equal(t, deployment.Instances{OrganizationalUnitIDs: []string{"ou-ac01-dataeng01", "ou-ac01-analytics"}, Accounts: []string{"210987654321"},
		Filter: deployment.FilterDifference, Regions: []string{"eu-west-1"}, Group: "data"}, first.Instances[1])
	assert.Equal(t, "acme-consumer-groups-81a561b3", second.Name)
	assert.Equal(t, "ConsumerGroups81a561b3", second.ID)
	assert.Equal(t, "/sandbox/vpc/id", second.Parameters.VpcID)

	require.Len(t, d.Groups, 3)
	assert.Equal(t, second.Name, d.Groups[2].StackSet)
	assert.Equal(t, 8, d.Groups[2].ExpectedAccounts)
	assert.Equal(t, "3 consumer group(s) in 4 OU(s) and 2 region(s), 2 StackSet(s)", d.GroupSummary())
	assert.Len(t, d.Stacks, 4, "two providers, the control plane, the StackSets")

	named, err := topology.Load("../examples/stacksets.yaml")
	require.NoError(t, err)
	nd := deployment.Resolve(named)
	require.Len(t, nd.StackSets, 2)
	assert.Equal(t, "obsset-consumers", nd.StackSets[0].Name)
	assert.Nil(t, nd.StackSets[0].Groups)
	assert.Equal(t, "/obslink/vpc-id", nd.StackSets[0].Parameters.VpcID)
	assert.Equal(t, []string{"222222222222"}, nd.StackSets[0].Instances[0].Accounts)
	assert.Equal(t, deployment.FilterIntersection, nd.StackSets[0].Instances[0].Filter)
	assert.Equal(t, "obsset-consumers", nd.Consumers[0].StackSet)
}

// TestGroupStackSetNames: a set's StackSet depends on its SSM names only,
// not on the file's order or on which groups share it; the default names
// keep <name>-consumer-groups.
func TestGroupStackSetNames(t *testing.T) {
	topo, err := topology.Load("../examples/stacksets-organization.yaml")
	require.NoError(t, err)
	names := func(topo *topology.Topology) map[string]string {
		out := map[string]string{}
		for _, g := range deployment.Resolve(topo).Groups {
			out[g.Name] = g.StackSet
		}
		return out
	}
	want := names(topo)
	reordered := *topo
	reordered.ConsumerGroups = []topology.ConsumerGroup{topo.ConsumerGroups[2], topo.ConsumerGroups[1], topo.ConsumerGroups[0]}
	assert.Equal(t, want, names(&reordered), "order does not rename")
	fewer := *topo
	fewer.ConsumerGroups = topo.ConsumerGroups[1:]
	got := names(&fewer)
	assert.Equal(t, want["data"], got["data"], "removing platform does not rename data's StackSet")
	def := *topo
	def.ConsumerGroups = []topology.ConsumerGroup{{Name: "x", OrganizationalUnitIDs: []string{"ou-ac01-xxxxxxxx"}, Regions: []string{"eu-west-1"}}}
	name, id := deployment.GroupStackSet(&def, def.ConsumerGroups[0])
	assert.Equal(t, []string{"acme-consumer-groups", "ConsumerGroups"}, []string{name, id}, "a deployed topology's default set keeps its StackSet")
}
