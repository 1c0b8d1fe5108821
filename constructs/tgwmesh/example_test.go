package tgwmesh_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/tgwmesh"
)

// A spoke region's Transit Gateway peered with the hub in eu-west-1: the
// peering is accepted in eu-west-1 by a custom resource that waits until it
// is available, and the spoke routes the cluster's CIDR through it.
func ExampleNewPeering() {
	app := awscdk.NewApp(nil)
	spoke := awscdk.NewStack(app, jsii.String("Spoke"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	gw := tgwmesh.NewGateway(spoke, jsii.String("Gateway"), &tgwmesh.GatewayProps{ASN: jsii.Number(64512)})
	peering := tgwmesh.NewPeering(spoke, jsii.String("ToHub"), &tgwmesh.PeeringProps{
		Local:                gw,
		PeerTransitGatewayID: jsii.String("tgw-0hub000000000000"),
		PeerRegion:           jsii.String("eu-west-1"),
		PeerAccount:          jsii.String("111111111111"),
		RemoteCidrs:          jsii.Strings("10.0.0.0/16"),
	})
	fmt.Println(*peering.Accepted().Node().Id())
	// Output: Accept
}
