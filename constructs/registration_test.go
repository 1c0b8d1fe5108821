// Package constructs_test hands every exported obslink construct back to
// aws-cdk, as an app that imports them does: tags, the stack, aspects,
// dependencies and, for the constructs that own security groups, rules
// through Connections. A construct that embeds a constructs.Construct
// instead of registering itself with jsii makes each of these panic.
package constructs_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/peeringlink"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/constructs/proxyless"
	"github.com/obslink/obslink/constructs/stackset"
	"github.com/obslink/obslink/constructs/tgwmesh"
)

// visited records the constructs an aspect saw.
type visited struct{ paths map[string]bool }

func (v *visited) Visit(node constructs.IConstruct) { v.paths[*node.Node().Path()] = true }

func TestConstructsWorkWithCdkApis(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Team"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.NewVpc(stack, jsii.String("TeamVpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0)})
	teamSG := awsec2.NewSecurityGroup(stack, jsii.String("TeamSG"), &awsec2.SecurityGroupProps{Vpc: vpc})
	marker := awssns.NewTopic(stack, jsii.String("DependsOnAll"), nil)

	routes := &[]*proxyfleet.Route{{Name: jsii.String("metrics"), Host: jsii.String("metrics.o.internal"), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}}
	region := providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{Vpc: vpc, Routes: routes, UpstreamCidrs: jsii.Strings("10.9.0.0/16")})
	fleet := proxyfleet.New(stack, jsii.String("Fleet"), &proxyfleet.Props{Vpc: vpc, Routes: routes, UpstreamCidrs: jsii.Strings("10.9.0.0/16")})
	consumer := consumervpc.New(stack, jsii.String("Consumer"), &consumervpc.Props{
		Vpc: vpc, ServiceName: jsii.String("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"),
		Domain: jsii.String("observability.internal"), Services: &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}},
	})
	var groups []*linkmonitor.TargetGroup
	for i, tg := range region.TargetGroups() {
		groups = append(groups, &linkmonitor.TargetGroup{Port: jsii.Number(float64(region.ListenerPorts()[i])), Group: tg})
	}
	monitor := linkmonitor.New(stack, jsii.String("Monitor"), &linkmonitor.Props{
		Name: jsii.String("team"), LoadBalancer: region.LoadBalancer(), ServiceID: region.ServiceID(), TargetGroups: &groups,
	})
	alb := proxyless.New(stack, jsii.String("Proxyless"), &proxyless.Props{Vpc: vpc, Services: &[]*proxyless.Service{{
		Name: jsii.String("metrics"), Port: jsii.Number(8080), AlbArn: jsii.String("arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/m/0123456789abcdef"),
	}}})
	peering := peeringlink.New(stack, jsii.String("Peering"), &peeringlink.Props{Vpc: vpc, PeerVpcID: jsii.String("vpc-0c1a5e7000000000a"), PeerCidr: jsii.String("10.9.0.0/16")})
	gw := tgwmesh.NewGateway(stack, jsii.String("Gateway"), &tgwmesh.GatewayProps{ASN: jsii.Number(64600)})
	att := tgwmesh.NewVpcAttachment(stack, jsii.String("Attachment"), &tgwmesh.VpcAttachmentProps{
		TransitGatewayID: gw.ID(), RouteTableID: gw.RouteTableID(), VpcID: vpc.VpcId(),
		SubnetIDs: vpc.SelectSubnets(nil).SubnetIds, VpcCidr: vpc.VpcCidrBlock(),
	})
	tgwPeering := tgwmesh.NewPeering(stack, jsii.String("TgwPeering"), &tgwmesh.PeeringProps{
		Local: gw, PeerTransitGatewayID: jsii.String("tgw-0hub"), PeerRegion: jsii.String("us-east-1"), PeerAccount: jsii.String("111111111111"),
		RemoteCidrs: jsii.Strings("10.9.0.0/16"),
	})
	set := stackset.New(stack, jsii.String("StackSet"), &stackset.Props{StackSetName: jsii.String("team"), TemplateBody: jsii.String(`{"Resources":{"T":{"Type":"AWS::SNS::Topic"}}}`)})

	all := map[string]constructs.IConstruct{
		"ConsumerVpc": consumer, "ProviderRegion": region, "NginxProxyFleet": fleet, "LinkMonitor": monitor,
		"AlbEndpointService": alb, "PeeringLink": peering, "Gateway": gw, "VpcAttachment": att, "Peering": tgwPeering,
		"StackSet": set,
	}
	connectable := map[string]awsec2.IConnectable{"ConsumerVpc": consumer, "ProviderRegion": region, "NginxProxyFleet": fleet, "AlbEndpointService": alb}
	aspect := &visited{paths: map[string]bool{}}
	for name, c := range all {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() { awscdk.Tags_Of(c).Add(jsii.String("team"), jsii.String("observability"), nil) }, "Tags_Of")
			require.NotPanics(t, func() { assert.Equal(t, "Team", *awscdk.Stack_Of(c).StackName()) }, "Stack_Of")
			require.NotPanics(t, func() { awscdk.Aspects_Of(c).Add(aspect, nil) }, "Aspects_Of")
			require.NotPanics(t, func() { marker.Node().AddDependency(c) }, "AddDependency")
			if conn, ok := connectable[name]; ok {
				require.NotPanics(t, func() {
					teamSG.Connections().AllowTo(conn, awsec2.Port_Tcp(jsii.Number(9100)), jsii.String("team to "+name))
					teamSG.Connections().AllowFrom(conn, awsec2.Port_Tcp(jsii.Number(9200)), jsii.String(name+" to team"))
				}, "Connections")
			}
		})
	}

	tpl := assertions.Template_FromStack(stack, nil)
	for name, c := range all {
		assert.True(t, aspect.paths[*c.Node().Path()], "the aspect visited %s", name)
	}
	tpl.HasResourceProperties(jsii.String("AWS::EC2::TransitGateway"), map[string]any{
		"Tags": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "team", "Value": "observability"}}),
	})
	tpl.HasResource(jsii.String("AWS::SNS::Topic"), map[string]any{
		"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^ProviderFleetGroup"))}),
	})
	for name := range connectable {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{
			"Description": "team to " + name, "FromPort": 9100,
		})
	}
}
