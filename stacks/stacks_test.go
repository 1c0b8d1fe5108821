package stacks_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

func defaultTopology(t *testing.T) *topology.Topology {
	topo, err := topology.Default()
	require.NoError(t, err)
	return topo
}

// A topology built in Go (not parsed) with a consumer whose region has no
// provider must not synthesize: Build stops with the consumer and the fix.
func TestConsumerWithoutProviderPanics(t *testing.T) {
	topo := defaultTopology(t)
	topo.Regions = topo.Regions[:1] // only eu-west-1 is left
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.Contains(t, fmt.Sprint(r), "consumer analytics in us-east-1 has no provider")
	}()
	stacks.Build(awscdk.NewApp(nil), topo)
}

// A provider whose principals drift from the file fails synthesis.
func TestPrincipalDriftFailsSynth(t *testing.T) {
	topo := defaultTopology(t)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	r := topo.Regions[0]
	prov := stacks.NewProviderStack(app, "p", &stacks.ProviderStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(topo.ControlPlane.Account), Region: jsii.String(r.Region)}},
		Topology:   &topology.Topology{Name: topo.Name, Domain: topo.Domain, ControlPlane: topo.ControlPlane, Services: topo.Services, Regions: topo.Regions, Proxy: topo.Proxy}, // no consumers: no principals
		Region:     r,
	})
	c := topo.Consumers[0] // payments, eu-west-1
	stacks.NewConsumerStack(app, "c", &stacks.ConsumerStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(c.Account), Region: jsii.String(c.Region)}},
		Topology:   topo, Consumer: c, Provider: prov,
	})
	defer func() {
		r := recover()
		require.NotNil(t, r, "synth succeeded with a provider that does not admit its consumer")
		assert.Contains(t, fmt.Sprint(r), "account 222222222222 is not an allowed principal")
	}()
	app.Synth(nil)
}

func TestStackNames(t *testing.T) {
	topo := defaultTopology(t)
	assert.Equal(t, "obslink-provider-eu-west-1", stacks.ProviderStackName(topo, "eu-west-1"))
	assert.Equal(t, "obslink-consumer-payments", stacks.ConsumerStackName(topo, "payments"))
}

// TestNamesMatchBuild: Plan (pure Go, used to compare a topology with what
// is deployed) lists exactly the stacks Build creates, with their account
// and region, for the default topology and every example.
func TestNamesMatchBuild(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	require.NoError(t, err)
	envs, err := filepath.Glob("../environments/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	topos := []*topology.Topology{defaultTopology(t)}
	for _, f := range append(files, envs...) {
		topo, err := topology.Load(f)
		require.NoError(t, err)
		topos = append(topos, topo)
	}
	for _, topo := range topos {
		set := stacks.Build(awscdk.NewApp(nil), topo)
		var built, planned []string
		for _, s := range set.All() {
			built = append(built, *s.StackName()+" "+*s.Account()+" "+*s.Region())
		}
		for _, p := range stacks.Plan(topo) {
			planned = append(planned, p.Name+" "+p.Account+" "+p.Region)
		}
		sort.Strings(built)
		sort.Strings(planned)
		assert.Equal(t, built, planned, topo.Name)
	}
}
