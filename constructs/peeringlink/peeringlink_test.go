package peeringlink_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/peeringlink"
)

func vpc(t *testing.T, account string) (awscdk.Stack, awsec2.IVpc, func() constructstest.Template) {
	stack := constructstest.Stack(account, "us-east-1")
	v := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String("10.100.1.0/24")), AvailabilityZones: jsii.Strings("us-east-1a", "us-east-1b"),
		NatGateways:         jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("p"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(26)}},
	})
	return stack, v, func() constructstest.Template { return constructstest.Synth(t, stack) }
}

func TestInterRegionPeering(t *testing.T) {
	stack, v, synth := vpc(t, "111111111111")
	peeringlink.New(stack, jsii.String("Link"), &peeringlink.Props{
		Vpc: v, PeerVpcID: jsii.String("vpc-0c1a5e7000000000a"), PeerCidr: jsii.String("10.0.0.0/16"), PeerRegion: jsii.String("eu-west-1"), PeerAccount: jsii.String("111111111111"),
	})
	tpl := synth()
	p := tpl.Props(t, "AWS::EC2::VPCPeeringConnection")
	assert.Equal(t, "vpc-0c1a5e7000000000a", p["PeerVpcId"])
	assert.Equal(t, "eu-west-1", p["PeerRegion"])
	assert.NotContains(t, p, "PeerRoleArn", "same account")
	routes := tpl.Resources("AWS::EC2::Route")
	assert.Len(t, routes, 2, "one per subnet route table")
	for _, r := range routes {
		assert.Equal(t, "10.0.0.0/16", r["Properties"].(map[string]any)["DestinationCidrBlock"], "only the peer's CIDR")
	}
}

func TestCrossAccountNeedsAccepterRole(t *testing.T) {
	stack, v, synth := vpc(t, "111111111111")
	peeringlink.New(stack, jsii.String("Link"), &peeringlink.Props{
		Vpc: v, PeerVpcID: jsii.String("vpc-0c1a5e7000000000a"), PeerCidr: jsii.String("10.0.0.0/16"), PeerAccount: jsii.String("999999999999"),
		PeerRoleArn: jsii.String("arn:aws:iam::999999999999:role/accept-peering"),
	})
	p := synth().Props(t, "AWS::EC2::VPCPeeringConnection")
	assert.Equal(t, "999999999999", p["PeerOwnerId"])
	assert.Equal(t, "arn:aws:iam::999999999999:role/accept-peering", p["PeerRoleArn"])

	stack2, v2, _ := vpc(t, "111111111111")
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.Contains(t, r, `props.PeerRoleArn is empty, but peer account 999999999999 is not known to be the stack's`)
	}()
	peeringlink.New(stack2, jsii.String("Link"), &peeringlink.Props{Vpc: v2, PeerVpcID: jsii.String("vpc-0c1a5e7000000000b"), PeerCidr: jsii.String("10.0.0.0/16"), PeerAccount: jsii.String("999999999999")})
}

func TestAccepterRoutesNamedByTable(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	peeringlink.NewRoutes(stack, jsii.String("Back"), &peeringlink.RoutesProps{
		RouteTableIDs: jsii.Strings("rtb-0b", "rtb-0a"), DestinationCidr: jsii.String("10.100.1.0/24"), PeeringConnectionID: jsii.String("pcx-1"),
	})
	routes := constructstest.Synth(t, stack).Resources("AWS::EC2::Route")
	require.Len(t, routes, 2)
	for id, r := range routes {
		p := r["Properties"].(map[string]any)
		assert.Contains(t, id, p["RouteTableId"].(string)[4:], "a literal table id names its route, so reordering replaces nothing")
		assert.Equal(t, "pcx-1", p["VpcPeeringConnectionId"])
	}
}
