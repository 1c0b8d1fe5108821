package proxyfleet_test

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/proxyfleet"
)

// A fleet of nginx proxies in an existing VPC, behind your own NLB.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Proxies"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0123456789abcdef0"), VpcCidrBlock: jsii.String("10.100.0.0/24"),
		AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds:  jsii.Strings("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"),
	})
	fleet := proxyfleet.New(stack, jsii.String("Fleet"), &proxyfleet.Props{
		Vpc:           vpc,
		UpstreamCidrs: jsii.Strings("10.0.0.0/16"), // the cluster's VPC
		Routes: &[]*proxyfleet.Route{{
			Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80),
			Upstream: jsii.String("internal-metrics-123.eu-west-1.elb.amazonaws.com"), UpstreamPort: jsii.Number(80),
		}},
	})
	nlb := awselasticloadbalancingv2.NewNetworkLoadBalancer(stack, jsii.String("Nlb"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{Vpc: vpc})
	listener := nlb.AddListener(jsii.String("Metrics"), &awselasticloadbalancingv2.BaseNetworkListenerProps{Port: jsii.Number(80)})
	fleet.AttachTo(listener, nlb, 80)

	for _, line := range strings.Split(fleet.NginxConfig(), "\n") {
		if strings.Contains(line, "server_name metrics") || strings.Contains(line, "proxy_pass") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	fmt.Println("health port:", fleet.HealthPort())
	// Output:
	// server_name metrics.observability.internal;
	// proxy_pass http://metrics_upstream;
	// health port: 8080
}

// Render the nginx configuration on its own, e.g. to inspect or test it.
func ExampleConfig_Render() {
	conf, err := proxyfleet.Config{Routes: []proxyfleet.ConfigRoute{{
		Name: "traces", Host: "traces.observability.internal", Port: 4317,
		Upstream: "internal-traces-123.eu-west-1.elb.amazonaws.com", UpstreamPort: 443, GRPC: true, UpstreamTLS: true,
	}}}.Render()
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(conf, "\n") {
		if strings.Contains(line, "grpc_pass") || strings.Contains(line, "listen 4317") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// listen 4317 default_server http2;
	// listen 4317 http2;
	// grpc_pass grpcs://traces_upstream;
}
