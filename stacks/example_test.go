package stacks_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// A platform team's app composes obslink from Go: a topology built in code,
// completed (validated, defaults applied, every problem at once), and its
// stacks built into a Stage of an app that already has stacks of its own.
func ExampleBuild() {
	app := awscdk.NewApp(nil)
	awscdk.NewStack(app, jsii.String("TeamBaseline"), nil) // the team's own stack, created first

	t := &topology.Topology{
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
	if err := topology.Complete("team topology", t); err != nil {
		fmt.Println(err)
		return
	}
	stage := awscdk.NewStage(app, jsii.String("Obslink"), nil)
	// The zones of the topology's environments: no lookup in AWS at synth.
	for k, v := range stacks.AvailabilityZoneContext(t) {
		stage.Node().SetContext(jsii.String(k), v)
	}
	set := stacks.Build(stage, t)
	// In a Stage, CDK prefixes the stack names with the stage's.
	for _, s := range set.All() {
		fmt.Println(*s.StackName())
	}
	// Output:
	// Obslink-team-provider-eu-west-1
	// Obslink-team-control-plane
	// Obslink-team-consumer-payments
}
