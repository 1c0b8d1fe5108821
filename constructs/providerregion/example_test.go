package providerregion_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
)

// The provider side of one region: proxies, NLB and an endpoint service
// that two consumer accounts may connect to.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Provider"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	p := providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{
		Cidr:              jsii.String("10.100.1.0/24"),
		AvailabilityZones: jsii.Strings("us-east-1a", "us-east-1b", "us-east-1c"),
		UpstreamCidrs:     jsii.Strings("10.0.0.0/16"),
		AllowedAccounts:   jsii.Strings("333333333333", "222222222222"),
		Routes: &[]*proxyfleet.Route{{
			Name: jsii.String("logs"), Host: jsii.String("logs.observability.internal"), Port: jsii.Number(80),
			Upstream: jsii.String("internal-logs-123.eu-west-1.elb.amazonaws.com"), UpstreamPort: jsii.Number(80),
		}},
		Fleet: &proxyfleet.Props{MinCapacity: jsii.Number(2), MaxCapacity: jsii.Number(6)},
	})
	fmt.Println(p.AllowedAccounts())
	fmt.Println(len(*p.Vpc().IsolatedSubnets()), "subnets, one per zone")
	// Output:
	// [222222222222 333333333333]
	// 3 subnets, one per zone
}
