package peeringlink_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/peeringlink"
)

// Peer a provider VPC in us-east-1 with the cluster's VPC in eu-west-1; the
// cluster side adds its return routes with NewRoutes in its own stack.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	provider := awscdk.NewStack(app, jsii.String("Provider"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	vpc := awsec2.Vpc_FromVpcAttributes(provider, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0provider0000000"), AvailabilityZones: jsii.Strings("us-east-1a"),
		PrivateSubnetIds: jsii.Strings("subnet-0a"), PrivateSubnetRouteTableIds: jsii.Strings("rtb-0provider"),
	})
	link := peeringlink.New(provider, jsii.String("ToCluster"), &peeringlink.Props{
		Vpc: vpc, PeerVpcID: jsii.String("vpc-0c1a5e7000000000a"), PeerCidr: jsii.String("10.0.0.0/16"), PeerRegion: jsii.String("eu-west-1"),
	})

	cluster := awscdk.NewStack(app, jsii.String("Cluster"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	peeringlink.NewRoutes(cluster, jsii.String("FromProvider"), &peeringlink.RoutesProps{
		RouteTableIDs:   jsii.Strings("rtb-0cluster"),
		DestinationCidr: jsii.String("10.100.1.0/24"),
		// Across regions, pass the id as a weak reference (Fn::GetStackOutput).
		PeeringConnectionID: awscdk.Stack_ConsumeReference(link.ConnectionID(), awscdk.ReferenceStrength_WEAK),
	})
	routes := assertions.Template_FromStack(cluster, nil).FindResources(jsii.String("AWS::EC2::Route"), nil)
	for _, r := range *routes {
		props := (*r)["Properties"].(map[string]any)
		fmt.Println(props["RouteTableId"], "->", props["DestinationCidrBlock"])
	}
	// Output: rtb-0cluster -> 10.100.1.0/24
}
