package providerregion_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
)

// A platform team's own VPC and ALB, as L2 objects: the provider goes into
// the VPC (with the endpoints its proxies need), proxies to the ALB by its
// DNS name (filled in by CloudFormation) through its security group, and is
// handed back to aws-cdk's own APIs like any construct.
func ExampleNew_teamVpcAndAlb() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Observability"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}},
	})
	alb := elbv2.NewApplicationLoadBalancer(stack, jsii.String("MetricsAlb"), &elbv2.ApplicationLoadBalancerProps{Vpc: vpc})

	provider := providerregion.New(stack, jsii.String("Obslink"), &providerregion.Props{
		Vpc:             vpc,
		AllowedAccounts: jsii.Strings("222222222222"),
		Routes: &[]*proxyfleet.Route{{
			Name:         jsii.String("metrics"),
			Host:         jsii.String("metrics.observability.internal"),
			Port:         jsii.Number(80),
			Alb:          alb, // its DNS name (a token, filled in by CloudFormation) and its security group
			UpstreamPort: jsii.Number(80),
		}},
	})
	awscdk.Tags_Of(provider).Add(jsii.String("team"), jsii.String("observability"), nil)
	admin := awsec2.NewSecurityGroup(stack, jsii.String("Admin"), &awsec2.SecurityGroupProps{Vpc: vpc})
	admin.Connections().AllowTo(provider, awsec2.Port_Tcp(jsii.Number(8080)), jsii.String("health checks from the admin hosts"))

	// The agents' side, in the same VPC for the example (usually another account).
	consumervpc.New(stack, jsii.String("Agents"), &consumervpc.Props{
		Vpc: vpc, ServiceName: provider.ServiceName(), Domain: jsii.String("observability.internal"),
		Services: &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}},
	})

	template := assertions.Template_FromStack(stack, nil)
	body, _ := json.Marshal(template.ToJSON())
	fmt.Println("unresolved tokens:", strings.Count(string(body), "${Token["))
	endpoints := template.FindResources(jsii.String("AWS::EC2::VPCEndpoint"), nil)
	fmt.Println("VPC endpoints:", len(*endpoints))
	// Output:
	// unresolved tokens: 0
	// VPC endpoints: 7
}
