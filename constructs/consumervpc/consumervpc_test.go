package consumervpc_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/consumervpc"
)

var services = &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}, {Name: jsii.String("logs"), Port: jsii.Number(80)}, {Name: jsii.String("traces"), Port: jsii.Number(4317)}}

func newConsumer(t *testing.T, props consumervpc.Props) constructstest.Template {
	t.Helper()
	stack := constructstest.Stack("222222222222", "eu-west-1")
	if props.Cidr == nil && props.Vpc == nil {
		props.Cidr, props.AvailabilityZones = jsii.String("10.0.0.0/16"), jsii.Strings("eu-west-1a", "eu-west-1b")
	}
	if props.ServiceName == nil {
		props.ServiceName = jsii.String("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0")
	}
	props.Domain = jsii.String("observability.internal")
	props.Services = services
	consumervpc.New(stack, jsii.String("Consumer"), &props)
	return constructstest.Synth(t, stack)
}

func TestEndpoint(t *testing.T) {
	tpl := newConsumer(t, consumervpc.Props{})
	ep := tpl.Props(t, "AWS::EC2::VPCEndpoint")
	assert.Equal(t, "Interface", ep["VpcEndpointType"])
	assert.Equal(t, false, ep["PrivateDnsEnabled"], "names come from our private zone, not the service's")
	assert.Equal(t, "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0", ep["ServiceName"])
	assert.Len(t, ep["SubnetIds"], 2, "an endpoint interface in each zone")
	assert.NotContains(t, ep, "ServiceRegion", "same-region service")
}

func TestCrossRegionEndpoint(t *testing.T) {
	tpl := newConsumer(t, consumervpc.Props{ServiceRegion: jsii.String("us-east-1")})
	ep := tpl.Props(t, "AWS::EC2::VPCEndpoint")
	assert.Equal(t, "us-east-1", ep["ServiceRegion"])
}

func TestSecurityGroupAdmitsOnlyAgentsOnServicePorts(t *testing.T) {
	tpl := newConsumer(t, consumervpc.Props{AllowedCidrs: jsii.Strings("10.0.0.0/16", "100.64.0.0/16")})
	sg := tpl.Props(t, "AWS::EC2::SecurityGroup")
	in, _ := json.Marshal(sg["SecurityGroupIngress"])
	var rules []map[string]any
	require.NoError(t, json.Unmarshal(in, &rules))
	got := map[string]bool{}
	for _, r := range rules {
		assert.Equal(t, "tcp", r["IpProtocol"])
		assert.Equal(t, r["FromPort"], r["ToPort"], "single ports, no ranges")
		got[r["CidrIp"].(string)+":"+jsonNum(r["FromPort"])] = true
	}
	assert.Equal(t, map[string]bool{
		"10.0.0.0/16:80": true, "10.0.0.0/16:4317": true,
		"100.64.0.0/16:80": true, "100.64.0.0/16:4317": true,
	}, got)
	// No egress: the endpoint never opens connections (one-way traffic).
	out, _ := json.Marshal(sg["SecurityGroupEgress"])
	assert.JSONEq(t, `[{"CidrIp":"255.255.255.255/32","Description":"Disallow all traffic","FromPort":252,"IpProtocol":"icmp","ToPort":86}]`, string(out))
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestZoneAndRecords(t *testing.T) {
	tpl := newConsumer(t, consumervpc.Props{})
	zone := tpl.Props(t, "AWS::Route53::HostedZone")
	assert.Equal(t, "observability.internal.", zone["Name"])
	vpcs, _ := json.Marshal(zone["VPCs"])
	assert.Contains(t, string(vpcs), `"VPCRegion":"eu-west-1"`)

	records := tpl.Resources("AWS::Route53::RecordSet")
	names := map[string]bool{}
	for _, r := range records {
		p := r["Properties"].(map[string]any)
		names[p["Name"].(string)] = true
		assert.Equal(t, "A", p["Type"])
		alias, _ := json.Marshal(p["AliasTarget"])
		assert.Contains(t, string(alias), `"DnsEntries"`, "alias of the endpoint's regional DNS name")
		assert.NotContains(t, p, "ResourceRecords")
	}
	assert.Equal(t, map[string]bool{
		"metrics.observability.internal.": true, "logs.observability.internal.": true, "traces.observability.internal.": true,
	}, names, "one record per service")
}

func TestExistingVpcAndAssociatedVpcs(t *testing.T) {
	stack := constructstest.Stack("222222222222", "eu-west-1")
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Existing"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0fedcba9876543210"), VpcCidrBlock: jsii.String("172.16.0.0/16"),
		AvailabilityZones: jsii.Strings("eu-west-1a"), PrivateSubnetIds: jsii.Strings("subnet-0fedcba9876543210"),
	})
	other := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Other"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0aaaaaaaaaaaaaaa1"), AvailabilityZones: jsii.Strings("eu-west-1a"),
	})
	consumervpc.New(stack, jsii.String("Consumer"), &consumervpc.Props{
		Vpc: vpc, ServiceName: jsii.String("com.amazonaws.vpce.eu-west-1.vpce-svc-1"), Domain: jsii.String("observability.internal"),
		Services: services, AssociatedVpcs: &[]awsec2.IVpc{other},
	})
	tpl := constructstest.Synth(t, stack)
	assert.Empty(t, tpl.Resources("AWS::EC2::VPC"))
	assert.Empty(t, tpl.Resources("AWS::EC2::Route"), "obslink adds no routes to consumer VPCs")
	ep := tpl.Props(t, "AWS::EC2::VPCEndpoint")
	assert.Equal(t, []any{"subnet-0fedcba9876543210"}, ep["SubnetIds"])
	sg := tpl.Props(t, "AWS::EC2::SecurityGroup")
	in, _ := json.Marshal(sg["SecurityGroupIngress"])
	assert.Contains(t, string(in), `"CidrIp":"172.16.0.0/16"`, "allowed CIDRs default to the VPC's")
	zone := tpl.Props(t, "AWS::Route53::HostedZone")
	vpcs, _ := json.Marshal(zone["VPCs"])
	assert.JSONEq(t, `[{"VPCId":"vpc-0fedcba9876543210","VPCRegion":"eu-west-1"},{"VPCId":"vpc-0aaaaaaaaaaaaaaa1","VPCRegion":"eu-west-1"}]`, string(vpcs))
}

func TestMisuse(t *testing.T) {
	stack := constructstest.Stack("222222222222", "eu-west-1")
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.Contains(t, r, "consumervpc.New(\"Test/Consumer\"): props.ServiceName is empty")
	}()
	consumervpc.New(stack, jsii.String("Consumer"), &consumervpc.Props{Cidr: jsii.String("10.0.0.0/16"), AvailabilityZones: jsii.Strings("eu-west-1a"), Domain: jsii.String("x"), Services: services})
}
