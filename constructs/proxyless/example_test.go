package proxyless_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/proxyless"
)

// An endpoint service in front of two ALBs of the cluster VPC, no proxies:
// agents in us-east-1 and eu-central-1 reach it over cross-region
// PrivateLink, metrics on port 80, traces (TLS to the ALB's HTTPS
// listener) on 4317.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Cluster"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:             jsii.String("vpc-0a1b2c3d4e5f60718"),
		VpcCidrBlock:      jsii.String("10.0.0.0/16"),
		AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds:  jsii.Strings("subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"),
	})
	s := proxyless.New(stack, jsii.String("Endpoint"), &proxyless.Props{
		Vpc: vpc,
		Services: &[]*proxyless.Service{
			{Name: jsii.String("metrics"), Port: jsii.Number(80), AlbArn: jsii.String("arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/metrics/0123456789abcdef")},
			{Name: jsii.String("traces"), Port: jsii.Number(4317), AlbPort: jsii.Number(443), TLS: jsii.Bool(true), AlbArn: jsii.String("arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/traces/fedcba9876543210")},
		},
		AlbSecurityGroupIDs: jsii.Strings("sg-0a1b2c3d4e5f60718"),
		AllowedAccounts:     jsii.Strings("222222222222"),
		SupportedRegions:    jsii.Strings("us-east-1", "eu-central-1"),
	})
	fmt.Println(s.ListenerPorts(), s.SupportedRegions())
	// Output:
	// [80 4317] [eu-central-1 us-east-1]
}
