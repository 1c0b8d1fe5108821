package proxyless_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/proxyless"
)

const (
	metricsALB = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/metrics/0123456789abcdef"
	tracesALB  = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/traces/fedcba9876543210"
)

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func newService(t *testing.T, props proxyless.Props) (*proxyless.AlbEndpointService, constructstest.Template) {
	t.Helper()
	stack := constructstest.Stack("111111111111", "eu-west-1")
	props.Vpc = awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Cluster"), &awsec2.VpcAttributes{
		VpcId:             jsii.String("vpc-0a1b2c3d4e5f60718"),
		VpcCidrBlock:      jsii.String("10.0.0.0/16"),
		AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds:  jsii.Strings("subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"),
	})
	if props.Services == nil {
		props.Services = &[]*proxyless.Service{
			{Name: jsii.String("traces"), Port: jsii.Number(4317), AlbArn: jsii.String(tracesALB), AlbPort: jsii.Number(443), TLS: jsii.Bool(true)},
			{Name: jsii.String("metrics"), Port: jsii.Number(80), AlbArn: jsii.String(metricsALB)},
		}
	}
	s := proxyless.New(stack, jsii.String("Endpoint"), &props)
	return s, constructstest.Synth(t, stack)
}

// TestNLBForwardsEachPortToItsALB: one TCP listener per service port, each
// forwarding to an ALB-type target group that holds that service's ALB on
// the ALB listener's port (AWS: TCP, target group port = listener port).
func TestNLBForwardsEachPortToItsALB(t *testing.T) {
	s, tpl := newService(t, proxyless.Props{AllowedAccounts: jsii.Strings("222222222222")})
	assert.Equal(t, []int{80, 4317}, s.ListenerPorts())

	lb := tpl.Props(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Equal(t, "network", lb["Type"])
	assert.Equal(t, "internal", lb["Scheme"])
	assert.Equal(t, []any{"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"}, lb["Subnets"])
	assert.Equal(t, "off", lb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"])

	listeners := tpl.Resources("AWS::ElasticLoadBalancingV2::Listener")
	require.Len(t, listeners, 2)
	groups := tpl.Resources("AWS::ElasticLoadBalancingV2::TargetGroup")
	require.Len(t, groups, 2)
	byPort := map[float64]map[string]any{}
	for id, g := range groups {
		p := g["Properties"].(map[string]any)
		assert.Equal(t, "alb", p["TargetType"], id)
		assert.Equal(t, "TCP", p["Protocol"], id)
		byPort[p["Port"].(float64)] = p
		var forwarded bool
		for _, l := range listeners {
			lp := l["Properties"].(map[string]any)
			if js(lp["DefaultActions"]) == js([]any{map[string]any{"TargetGroupArn": map[string]any{"Ref": id}, "Type": "forward"}}) {
				forwarded = true
				assert.Equal(t, "TCP", lp["Protocol"])
			}
		}
		assert.True(t, forwarded, "a listener forwards to %s", id)
	}
	traces, metrics := byPort[443], byPort[80]
	require.NotNil(t, traces, "traces' group is on the ALB's HTTPS listener port")
	require.NotNil(t, metrics)
	assert.JSONEq(t, `[{"Id":"`+tracesALB+`","Port":443}]`, js(traces["Targets"]))
	assert.JSONEq(t, `[{"Id":"`+metricsALB+`","Port":80}]`, js(metrics["Targets"]))
	assert.Equal(t, "HTTPS", traces["HealthCheckProtocol"], "the ALB's listener speaks TLS")
	assert.Equal(t, "HTTP", metrics["HealthCheckProtocol"])
	assert.Equal(t, "traffic-port", traces["HealthCheckPort"])
	for _, g := range []map[string]any{traces, metrics} {
		// An ALB target group's success codes, unhealthy threshold and
		// timeout cannot be set, nor its attributes (no proxy protocol).
		for _, k := range []string{"Matcher", "UnhealthyThresholdCount", "HealthCheckTimeoutSeconds", "TargetGroupAttributes"} {
			assert.NotContains(t, g, k)
		}
	}
	for _, l := range listeners {
		lp := l["Properties"].(map[string]any)
		assert.Contains(t, []any{80.0, 4317.0}, lp["Port"])
	}
}

// TestALBsLetTheNLBIn: the ALBs' groups admit the NLB's group on the ALB
// ports, the NLB's group sends only there and admits nothing (PrivateLink
// traffic is not filtered by it).
func TestALBsLetTheNLBIn(t *testing.T) {
	_, tpl := newService(t, proxyless.Props{AlbSecurityGroupIDs: jsii.Strings("sg-0a1b2c3d4e5f60718")})
	ingress := tpl.Resources("AWS::EC2::SecurityGroupIngress")
	require.Len(t, ingress, 2, "one per ALB port")
	ports := map[float64]bool{}
	for _, r := range ingress {
		p := r["Properties"].(map[string]any)
		assert.Equal(t, "sg-0a1b2c3d4e5f60718", p["GroupId"])
		assert.Contains(t, js(p["SourceSecurityGroupId"]), "LoadBalancerSecurityGroup")
		assert.Equal(t, p["FromPort"], p["ToPort"])
		ports[p["FromPort"].(float64)] = true
	}
	assert.Equal(t, map[float64]bool{80: true, 443: true}, ports, "the ALB listener ports, not the NLB's")
	egress := tpl.Resources("AWS::EC2::SecurityGroupEgress")
	require.Len(t, egress, 2)
	for _, r := range egress {
		assert.Equal(t, "sg-0a1b2c3d4e5f60718", r["Properties"].(map[string]any)["DestinationSecurityGroupId"])
	}
	sg := tpl.Props(t, "AWS::EC2::SecurityGroup")
	assert.NotContains(t, sg, "SecurityGroupIngress")
	assert.JSONEq(t, `[{"CidrIp":"255.255.255.255/32","Description":"Disallow all traffic","FromPort":252,"IpProtocol":"icmp","ToPort":86}]`, js(sg["SecurityGroupEgress"]),
		"no allow-all egress, even before the standalone rules exist")
}

// TestWithoutALBGroupsTheNLBSendsToTheVPCOnly: albIngress manual: no rule
// on the ALBs' groups; the NLB's egress is the VPC's CIDR on the ALB ports.
func TestWithoutALBGroupsTheNLBSendsToTheVPCOnly(t *testing.T) {
	_, tpl := newService(t, proxyless.Props{})
	assert.Empty(t, tpl.Resources("AWS::EC2::SecurityGroupIngress"))
	egress := tpl.Resources("AWS::EC2::SecurityGroupEgress")
	require.Len(t, egress, 2)
	for _, r := range egress {
		assert.Equal(t, "10.0.0.0/16", r["Properties"].(map[string]any)["CidrIp"])
	}
}

// TestPublishedForTheConsumersOnly: the endpoint service allows exactly the
// accounts and regions given, like a provider's.
func TestPublishedForTheConsumersOnly(t *testing.T) {
	s, tpl := newService(t, proxyless.Props{AllowedAccounts: jsii.Strings("333333333333", "222222222222"), SupportedRegions: jsii.Strings("us-east-1")})
	perms := tpl.Props(t, "AWS::EC2::VPCEndpointServicePermissions")
	assert.JSONEq(t, `[
		{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::222222222222:root"]]},
		{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::333333333333:root"]]}
	]`, js(perms["AllowedPrincipals"]))
	svc := tpl.Props(t, "AWS::EC2::VPCEndpointService")
	assert.Equal(t, []any{"us-east-1"}, svc["SupportedRegions"])
	assert.Equal(t, false, svc["AcceptanceRequired"])
	assert.Equal(t, []string{"222222222222", "333333333333"}, s.AllowedAccounts())
	assert.Len(t, tpl.Resources("Custom::ObslinkRevokeEndpointConnections"), 1, "accounts that leave lose their connections")
}

func TestBadPropsPanicWithTheReason(t *testing.T) {
	for _, tt := range []struct {
		name     string
		services *[]*proxyless.Service
		want     string
	}{
		{"shared port", &[]*proxyless.Service{{Name: jsii.String("a"), Port: jsii.Number(80), AlbArn: jsii.String(metricsALB)}, {Name: jsii.String("b"), Port: jsii.Number(80), AlbArn: jsii.String(tracesALB)}}, "routes by port only"},
		{"no ALB", &[]*proxyless.Service{{Name: jsii.String("a"), Port: jsii.Number(80)}}, "props.Services[0].AlbArn is empty; give the ALB's ARN, or the ALB as Alb"},
		{"bad port", &[]*proxyless.Service{{Name: jsii.String("a"), Port: jsii.Number(70000), AlbArn: jsii.String(metricsALB)}}, "props.Services[0].Port 70000 is not a port; use 1-65535"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				assert.Contains(t, msg, `proxyless.New("Test/Endpoint"): `)
				assert.Contains(t, msg, tt.want)
			}()
			newService(t, proxyless.Props{Services: tt.services})
			t.Error("no panic")
		})
	}
}

// TestTeamALBsAndGroupsAsL2: an ALB and a security group a team holds as
// L2 objects: the NLB reaches them through Connections (rules named by the
// constructs, not by the values), and an id given as a token is refused
// with the field and the fix.
func TestTeamALBsAndGroupsAsL2(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0)})
	alb := elbv2.NewApplicationLoadBalancer(stack, jsii.String("Alb"), &elbv2.ApplicationLoadBalancerProps{Vpc: vpc})
	other := awsec2.NewSecurityGroup(stack, jsii.String("OtherAlbs"), &awsec2.SecurityGroupProps{Vpc: vpc})
	proxyless.New(stack, jsii.String("Endpoint"), &proxyless.Props{
		Vpc:               vpc,
		Services:          &[]*proxyless.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80), Alb: alb}, {Name: jsii.String("logs"), Port: jsii.Number(81), AlbArn: jsii.String(metricsALB)}},
		AlbSecurityGroups: &[]awsec2.ISecurityGroup{other},
	})
	tpl := constructstest.Synth(t, stack)
	constructstest.Check(t, "the team's ALB lets the NLB in on its port", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{
			"GroupId":               map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^AlbSecurityGroup")), "GroupId"}},
			"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^EndpointLoadBalancerSecurityGroup")), "GroupId"}},
			"FromPort":              80,
		})
	})
	constructstest.Check(t, "the ALB target is the team's ALB", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), map[string]any{
			"TargetType": "alb", "Targets": []any{map[string]any{"Id": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Alb"))}, "Port": 80}},
		})
	})
	constructstest.Check(t, "the other group lets the NLB in on every ALB port", func() {
		for _, port := range []int{80, 81} {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{
				"GroupId":  map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^OtherAlbs")), "GroupId"}},
				"FromPort": port,
			})
		}
	})

	assert.PanicsWithValue(t, `proxyless.New("Test/Tokens"): props.AlbSecurityGroupIDs[0] is ${Token[TOKEN.`+
		tokenNumber(*other.SecurityGroupId())+`]}, a value known only at deploy, but the id names its rules' construct ids; pass the group as AlbSecurityGroups (awsec2.ISecurityGroup) instead`, func() {
		proxyless.New(stack, jsii.String("Tokens"), &proxyless.Props{Vpc: vpc, Services: &[]*proxyless.Service{{Name: jsii.String("m"), Port: jsii.Number(80), Alb: alb}},
			AlbSecurityGroupIDs: jsii.Strings(*other.SecurityGroupId())})
	})
}

func tokenNumber(token string) string {
	return strings.TrimSuffix(strings.TrimPrefix(token, "${Token[TOKEN."), "]}")
}
