package consumervpc_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/consumervpc"
)

// An agent VPC that reaches an obslink endpoint service: agents use
// metrics.observability.internal, whatever account and region they are in.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Agents"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("222222222222"), Region: jsii.String("eu-west-1")},
	})
	c := consumervpc.New(stack, jsii.String("Obslink"), &consumervpc.Props{
		Cidr:              jsii.String("10.50.0.0/16"),
		AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		ServiceName:       jsii.String("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"),
		Domain:            jsii.String("observability.internal"),
		Services:          &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}, {Name: jsii.String("logs"), Port: jsii.Number(80)}},
	})
	fmt.Println(*c.Zone().ZoneName())
	fmt.Println(*awscdk.Stack_Of(c.Endpoint()).Region())
	// Output:
	// observability.internal
	// eu-west-1
}
