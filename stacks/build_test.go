package stacks_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// TestBuildRefusesAnIncompleteTopology: a topology built in Go and not
// completed gets a message with the fix, not a panic deep in a construct.
func TestBuildRefusesAnIncompleteTopology(t *testing.T) {
	def, err := topology.Default()
	require.NoError(t, err)
	fresh := &topology.Topology{Name: def.Name, ControlPlane: def.ControlPlane, Regions: def.Regions[:1],
		Services:  []topology.Service{{Name: "metrics", Upstream: "m.elb.amazonaws.com"}},
		Consumers: def.Consumers[:1]}
	app := awscdk.NewApp(nil)
	awscdk.NewStack(app, jsii.String("Existing"), nil)
	assert.PanicsWithValue(t, "stacks.Build: the topology is not complete: pass a topology built in Go through topology.Complete first "+
		"(it validates it and applies the defaults, as topology.Parse does for a file)", func() { stacks.Build(app, fresh) })
	assert.PanicsWithValue(t, "stacks.Build: scope is nil; pass your App, or a Stage of it", func() { stacks.Build(nil, def) })
	assert.PanicsWithValue(t, "stacks.AvailabilityZoneContext: the topology is nil; pass the topology you give stacks.Build",
		func() { stacks.AvailabilityZoneContext(nil) })
	require.NoError(t, topology.Complete("fresh", fresh))
	assert.NotPanics(t, func() { stacks.Build(app, fresh) }, "into an app that already has a stack, without setting its context")
}
