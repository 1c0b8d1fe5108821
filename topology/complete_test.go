package topology_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/obslink/obslink/topology"
)

// inGo is a topology as a platform team writes it in Go: no defaults.
func inGo() *topology.Topology {
	return &topology.Topology{
		Name: "team",
		ControlPlane: topology.ControlPlane{Account: "111111111111", Region: "eu-west-1", VPC: topology.ClusterVPC{
			ID: "vpc-0a1b2c3d4e5f60718", CIDR: "10.0.0.0/16", RouteTableIDs: []string{"rtb-0a1b2c3d4e5f60718"},
			ALBSecurityGroupIDs: []string{"sg-0a1b2c3d4e5f60718"},
		}},
		Services: []topology.Service{{Name: "metrics", Upstream: "internal-metrics-123.eu-west-1.elb.amazonaws.com"}},
		Regions:  []topology.Region{{Region: "eu-west-1", CIDR: "10.100.0.0/24", AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"}}},
		Consumers: []topology.Consumer{{Name: "payments", Account: "222222222222", Region: "eu-west-1",
			VPC: topology.ConsumerVPC{CIDR: "10.1.0.0/16", AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"}}}},
	}
}

// TestCompleteAppliesTheDefaultsOfParse: a topology built in Go gets what
// Parse gives the same topology written as YAML.
func TestCompleteAppliesTheDefaultsOfParse(t *testing.T) {
	got := inGo()
	require.NoError(t, topology.Complete("team (Go)", got))
	assert.Equal(t, 80, got.Services[0].Port)
	assert.Equal(t, 80, got.Services[0].UpstreamPort)
	assert.Equal(t, topology.Peering, got.InterRegion)
	assert.Equal(t, 2, got.Proxy.Min())

	text, err := yaml.Marshal(inGo())
	require.NoError(t, err)
	assert.NotContains(t, string(text), "null", "empty fields are left out, so Parse reads what Marshal wrote")
	parsed, err := topology.Parse("team.yaml", text)
	require.NoError(t, err)
	assert.Equal(t, got, parsed)

	assert.True(t, got.Completed())
	require.NoError(t, topology.Complete("again", got), "a complete topology passes again")
	assert.Equal(t, parsed, got, "unchanged")
}

// TestCompleteChecksAChangedTopologyAgain: a topology read from a file and
// changed in Go is validated and completed again, its changes included.
func TestCompleteChecksAChangedTopologyAgain(t *testing.T) {
	def, err := topology.Default()
	require.NoError(t, err)
	def.Consumers = append(def.Consumers, topology.Consumer{Name: "search", Account: "1234", Region: "eu-west-1",
		VPC: topology.ConsumerVPC{CIDR: "10.9.0.0/16", AvailabilityZones: []string{"eu-west-1a"}}})
	err = topology.Complete("changed", def)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("changed: consumers[%d].account:", len(def.Consumers)-1))

	def.Consumers[len(def.Consumers)-1].Account = "999999999999"
	require.NoError(t, topology.Complete("changed", def))
	assert.Equal(t, []string{"10.9.0.0/16"}, def.Consumers[len(def.Consumers)-1].AllowedCIDRs, "the new consumer's defaults")
}

// TestMarshalParseRoundTrips: the default topology and every example,
// parsed (completed), marshalled and parsed again, is the same topology:
// in every mode (proxyless, StackSets, tgw, TLS passthrough, ...).
func TestMarshalParseRoundTrips(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	files = append(files, "default.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			parsed, err := topology.Load(f)
			require.NoError(t, err)
			text, err := yaml.Marshal(parsed)
			require.NoError(t, err)
			again, err := topology.Parse("marshalled "+f, text)
			require.NoError(t, err)
			require.Len(t, again.Warnings(), len(parsed.Warnings()))
			for i, w := range parsed.Warnings() {
				assert.Equal(t, w.Path+": "+w.Msg, again.Warnings()[i].Path+": "+again.Warnings()[i].Msg, "the same warnings, at their own lines")
			}
			assert.Equal(t, topology.WithoutWarnings(parsed), topology.WithoutWarnings(again))
		})
	}
}

// TestCompleteReportsEveryProblem: a topology built in Go with mistakes
// gets every one, with its path, as a file would, and is left unchanged.
func TestCompleteReportsEveryProblem(t *testing.T) {
	bad := inGo()
	bad.Name = "Team!"
	bad.ControlPlane.Account = "1111"
	bad.Services[0].Port = 70000
	bad.Regions[0].CIDR = "10.100.0.0/33"
	err := topology.Complete("team (Go)", bad)
	var errs topology.Errors
	require.True(t, errors.As(err, &errs), "%v", err)
	paths := map[string]bool{}
	for _, e := range errs {
		paths[e.Path] = true
		assert.Equal(t, "team (Go)", e.File)
	}
	for _, p := range []string{"name", "controlPlane.account", "services[0].port", "regions[0].cidr"} {
		assert.True(t, paths[p], "%s reported in %v", p, err)
	}
	assert.Equal(t, 0, bad.Services[0].UpstreamPort, "no defaults on an invalid topology")
	assert.EqualError(t, topology.Complete("team (Go)", nil),
		"1 problem(s) in topology:\n  team (Go): (topology): is nil; pass a *topology.Topology built in Go, or read one with topology.Load")
	assert.False(t, bad.Completed())
}
