package providerregion_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
)

// teamStack is a platform team's stack: its own VPC (with NAT-less
// private subnets) and its own internal ALB, as L2 objects.
func teamStack() (awscdk.Stack, awsec2.Vpc, elbv2.ApplicationLoadBalancer) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Team"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String("10.40.0.0/16")), MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}},
	})
	alb := elbv2.NewApplicationLoadBalancer(stack, jsii.String("Alb"), &elbv2.ApplicationLoadBalancerProps{Vpc: vpc})
	return stack, vpc, alb
}

// userData is the launch template's user data with every CloudFormation
// value in it written as «value».
func userData(t *testing.T, tpl assertions.Template) string {
	t.Helper()
	var found []string
	for _, lt := range *tpl.FindResources(jsii.String("AWS::EC2::LaunchTemplate"), nil) {
		b, err := json.Marshal((*lt)["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)["UserData"].(map[string]any)["Fn::Base64"])
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		found = append(found, flatten(v))
	}
	require.Len(t, found, 1)
	return found[0]
}

func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if j, ok := v["Fn::Join"].([]any); ok {
			var b strings.Builder
			for _, p := range j[1].([]any) {
				b.WriteString(flatten(p))
			}
			return b.String()
		}
	}
	b, _ := json.Marshal(v)
	return "«" + string(b) + "»"
}

var heredoc = regexp.MustCompile(`(?s)cat >(\S+) <<'OBSLINK_EOF'\n(.*?)OBSLINK_EOF\n`)

// files are the files the proxies' files script (in the stack's SSM
// parameters) writes, by path.
func files(t *testing.T, tpl assertions.Template) map[string]string {
	t.Helper()
	var params []proxyfleet.Parameter
	for _, p := range *tpl.FindResources(jsii.String("AWS::SSM::Parameter"), nil) {
		props := (*p)["Properties"].(map[string]any)
		if name, _ := props["Name"].(string); strings.Contains(name, "/files/") {
			params = append(params, proxyfleet.Parameter{Name: name, Value: props["Value"].(string)})
		}
	}
	script, err := proxyfleet.ReadFiles(params)
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range heredoc.FindAllStringSubmatch(script, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestTeamAlbAsUpstreamIsResolvedAtDeploy(t *testing.T) {
	stack, vpc, alb := teamStack()
	providerregion.New(stack, jsii.String("Obslink"), &providerregion.Props{
		Vpc:           vpc,
		UpstreamCidrs: jsii.Strings("10.40.0.0/16"), // for the logs route, which has no Alb
		Routes: &[]*proxyfleet.Route{
			{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80), Alb: alb, UpstreamPort: jsii.Number(80)},
			{Name: jsii.String("logs"), Host: jsii.String("logs.observability.internal"), Port: jsii.Number(80), Upstream: jsii.String(*alb.LoadBalancerDnsName()), UpstreamPort: jsii.Number(8080)},
		},
	})
	tpl := assertions.Template_FromStack(stack, nil)
	whole, _ := json.Marshal(tpl.ToJSON())
	assert.NotContains(t, string(whole), "${Token[", "no unresolved token anywhere in the template")

	ud := userData(t, tpl)
	fs := files(t, tpl)
	require.Contains(t, fs, "/etc/nginx/nginx.conf")
	for path, body := range fs {
		assert.NotContains(t, body, "Token[", "%s is gzipped in parameters: CloudFormation cannot fill a value into it", path)
	}
	assert.NotContains(t, fs, "/etc/obslink/upstreams", "the upstreams file is in the user data")
	assert.Contains(t, fs["/etc/nginx/nginx.conf"], "server_name metrics.observability.internal;")
	albID := *stack.GetLogicalId(alb.Node().DefaultChild().(awscdk.CfnElement))
	dns := `«{"Fn::GetAtt":["` + albID + `","DNSName"]}»`
	assert.Contains(t, ud, "cat >/etc/obslink/upstreams <<'OBSLINK_EOF'\nmetrics "+dns+" 80\nlogs "+dns+" 8080\nOBSLINK_EOF\n",
		"the upstreams file is plain text, filled in by CloudFormation")

	// The route with an Alb opens the proxies to it through its security group.
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{
		"GroupId":               map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^AlbSecurityGroup")), "GroupId"}},
		"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ObslinkFleetSecurityGroup")), "GroupId"}},
		"FromPort":              80,
	})
}

// TestTeamVpcGetsTheEndpointsTheBootstrapNeeds: in a team's own VPC, the
// default creates the S3 gateway endpoint, the interface endpoints (open to
// the proxies only) and the S3 egress rule, and the proxies launch after them.
func TestTeamVpcGetsTheEndpointsTheBootstrapNeeds(t *testing.T) {
	stack, vpc, alb := teamStack()
	providerregion.New(stack, jsii.String("Obslink"), &providerregion.Props{
		Vpc:    vpc,
		Routes: &[]*proxyfleet.Route{{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80), Alb: alb, UpstreamPort: jsii.Number(80)}},
	})
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
		"VpcEndpointType": "Gateway",
		"ServiceName":     assertions.Match_AnyValue(),
	})
	interfaces := tpl.FindResources(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{"Properties": map[string]any{"VpcEndpointType": "Interface"}})
	var names []string
	for _, e := range *interfaces {
		names = append(names, (*e)["Properties"].(map[string]any)["ServiceName"].(string))
	}
	assert.ElementsMatch(t, []string{"com.amazonaws.eu-west-1.ssm", "com.amazonaws.eu-west-1.ssmmessages", "com.amazonaws.eu-west-1.ec2messages",
		"com.amazonaws.eu-west-1.logs", "com.amazonaws.eu-west-1.cloudformation"}, names)
	// Each endpoint admits the proxies' group on 443, and nothing wider.
	ingress := tpl.FindResources(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{"Properties": map[string]any{
		"Description": "from the obslink proxies", "FromPort": 443,
		"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ObslinkFleetSecurityGroup")), "GroupId"}},
	}})
	assert.Len(t, *ingress, 5)
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupEgress"), map[string]any{
		"FromPort": 443, "DestinationPrefixListId": assertions.Match_AnyValue(),
	})
	groups := tpl.FindResources(jsii.String("AWS::AutoScaling::AutoScalingGroup"), nil)
	require.Len(t, *groups, 1)
	for _, g := range *groups {
		deps, _ := json.Marshal((*g)["DependsOn"])
		for _, want := range []string{"ObslinkFleetToS3", "ObslinkEndpointsS3", "ObslinkEndpointsSsm", "ObslinkEndpointsLogs", "ObslinkEndpointsCloudFormation", "ObslinkFleetFiles0"} {
			assert.Contains(t, string(deps), want, "the first proxies boot once the endpoints exist")
		}
	}
}

// TestEndpointsCheckNamesWhatIsMissing: with EndpointsCheck, ProviderRegion
// creates no endpoint and synthesis says which ones the VPC lacks; once the
// team adds them, it synthesizes.
func TestEndpointsCheckNamesWhatIsMissing(t *testing.T) {
	stack, vpc, alb := teamStack()
	props := &providerregion.Props{
		Vpc: vpc, VpcEndpoints: providerregion.EndpointsCheck,
		Routes: &[]*proxyfleet.Route{{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80), Alb: alb, UpstreamPort: jsii.Number(80)}},
	}
	vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{Service: awsec2.GatewayVpcEndpointAwsService_S3()})
	vpc.AddInterfaceEndpoint(jsii.String("Ssm"), &awsec2.InterfaceVpcEndpointOptions{Service: awsec2.InterfaceVpcEndpointAwsService_SSM()})
	providerregion.New(stack, jsii.String("Obslink"), props)
	func() {
		defer func() {
			msg := ""
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
			assert.Contains(t, msg, "Team/Obslink")
			assert.Contains(t, msg, "props.VpcEndpoints is EndpointsCheck, but the VPC has no endpoint for ssmmessages, ec2messages, logs, cloudformation in this app")
		}()
		assertions.Template_FromStack(stack, nil)
	}()

	stack, vpc, alb = teamStack()
	props.Vpc = vpc
	(*props.Routes)[0].Alb = alb
	vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{Service: awsec2.GatewayVpcEndpointAwsService_S3()})
	for id, svc := range map[string]awsec2.InterfaceVpcEndpointAwsService{
		"Ssm": awsec2.InterfaceVpcEndpointAwsService_SSM(), "SsmMessages": awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES(),
		"Ec2Messages": awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES(), "Logs": awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(),
		"Cfn": awsec2.InterfaceVpcEndpointAwsService_CLOUDFORMATION(),
	} {
		vpc.AddInterfaceEndpoint(jsii.String(id), &awsec2.InterfaceVpcEndpointOptions{Service: svc})
	}
	providerregion.New(stack, jsii.String("Obslink"), props)
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(6))
}

// TestTeamLoadBalancer: a team's own NLB gets the listeners and targets,
// and is what the endpoint service publishes.
func TestTeamLoadBalancer(t *testing.T) {
	stack, vpc, alb := teamStack()
	nlb := elbv2.NewNetworkLoadBalancer(stack, jsii.String("Nlb"), &elbv2.NetworkLoadBalancerProps{Vpc: vpc})
	r := providerregion.New(stack, jsii.String("Obslink"), &providerregion.Props{
		Vpc: vpc, LoadBalancer: nlb,
		Routes: &[]*proxyfleet.Route{{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80), Alb: alb, UpstreamPort: jsii.Number(80)}},
	})
	assert.Equal(t, *nlb.LoadBalancerArn(), *r.LoadBalancer().LoadBalancerArn())
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), jsii.Number(2)) // the team's NLB and ALB
	tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
		"LoadBalancerArn": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Nlb"))}, "Port": 80, "Protocol": "TCP",
	})
	tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpointService"), map[string]any{
		"NetworkLoadBalancerArns": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Nlb"))}},
	})
}
