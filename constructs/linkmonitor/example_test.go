package linkmonitor_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
)

// The alarms and dashboard of one provider region, notifying a topic.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Provider"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	p := providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{
		Cidr: jsii.String("10.100.0.0/24"), AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		UpstreamCidrs: jsii.Strings("10.0.0.0/16"),
		Routes: &[]*proxyfleet.Route{{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80),
			Upstream: jsii.String("internal-metrics-123.eu-west-1.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}},
	})
	var groups []*linkmonitor.TargetGroup
	for i, tg := range p.TargetGroups() {
		groups = append(groups, &linkmonitor.TargetGroup{Port: jsii.Number(float64(p.ListenerPorts()[i])), Group: tg})
	}
	m := linkmonitor.New(stack, jsii.String("Monitor"), &linkmonitor.Props{
		Name:             jsii.String("provider-eu-west-1"),
		LoadBalancer:     p.LoadBalancer(),
		TargetGroups:     &groups,
		ServiceID:        p.ServiceID(),
		AutoScalingGroup: p.Fleet().AutoScalingGroup(),
		InstanceType:     jsii.String(proxyfleet.DefaultInstanceType),
		MinCapacity:      jsii.Number(proxyfleet.DefaultMinCapacity),
		AccessLogGroup:   p.Fleet().AccessLogGroup(),
		Services:         jsii.Strings("metrics"),
		AlarmTopic:       awssns.NewTopic(stack, jsii.String("Alarms"), nil),
	})
	for _, a := range m.Alarms()[:3] {
		fmt.Println(*a.Node().Id())
	}
	// Output:
	// HealthyHosts80
	// UnhealthyHosts80
	// TargetResets
}
