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
	p := providerregion.New(stack, "Provider", &providerregion.Props{
		Cidr:              "10.100.1.0/24",
		AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		UpstreamCidrs:     []string{"10.0.0.0/16"},
		AllowedAccounts:   []string{"333333333333", "222222222222"},
		Routes: []proxyfleet.Route{{
			Name: "logs", Host: "logs.observability.internal", Port: 80,
			Upstream: "internal-logs-123.eu-west-1.elb.amazonaws.com", UpstreamPort: 80,
		}},
		Fleet: proxyfleet.Props{MinCapacity: 2, MaxCapacity: 6},
	})
	fmt.Println(p.AllowedAccounts())
	fmt.Println(len(*p.Vpc().IsolatedSubnets()), "subnets, one per zone")
	// Output:
	// [222222222222 333333333333]
	// 3 subnets, one per zone
}
