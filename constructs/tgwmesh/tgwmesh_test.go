package tgwmesh_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/assets"
	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/tgwmesh"
	"github.com/obslink/obslink/internal/nginxtest"
)

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestGatewayAndAttachment(t *testing.T) {
	stack := constructstest.Stack("111111111111", "us-east-1")
	gw := tgwmesh.NewGateway(stack, jsii.String("Gw"), &tgwmesh.GatewayProps{ASN: jsii.Number(64600)})
	tgwmesh.NewVpcAttachment(stack, jsii.String("Att"), &tgwmesh.VpcAttachmentProps{
		TransitGatewayID: gw.ID(), RouteTableID: gw.RouteTableID(),
		VpcID: jsii.String("vpc-1"), SubnetIDs: jsii.Strings("subnet-a", "subnet-b"), VpcCidr: jsii.String("10.1.0.0/24"),
	})
	tpl := constructstest.Synth(t, stack)
	g := tpl.Props(t, "AWS::EC2::TransitGateway")
	assert.EqualValues(t, 64600, g["AmazonSideAsn"])
	assert.Equal(t, "disable", g["DefaultRouteTableAssociation"])
	assert.Equal(t, "disable", g["DefaultRouteTablePropagation"])
	assert.Equal(t, "disable", g["AutoAcceptSharedAttachments"])
	assert.Len(t, tpl.Resources("AWS::EC2::TransitGatewayRouteTable"), 1)
	assoc := tpl.Props(t, "AWS::EC2::TransitGatewayRouteTableAssociation")
	assert.Contains(t, js(assoc["TransitGatewayRouteTableId"]), "GwRouteTable")
	route := tpl.Props(t, "AWS::EC2::TransitGatewayRoute")
	assert.Equal(t, "10.1.0.0/24", route["DestinationCidrBlock"])
	assert.Empty(t, tpl.Resources("AWS::EC2::TransitGatewayRouteTablePropagation"), "static routes only, no propagation")
}

func TestPeeringWaitsForAcceptance(t *testing.T) {
	stack := constructstest.Stack("111111111111", "us-east-1")
	gw := tgwmesh.NewGateway(stack, jsii.String("Gw"), &tgwmesh.GatewayProps{ASN: jsii.Number(64600)})
	p := tgwmesh.NewPeering(stack, jsii.String("Peering"), &tgwmesh.PeeringProps{
		Local: gw, PeerTransitGatewayID: jsii.String("tgw-0hub"), PeerRegion: jsii.String("eu-west-1"), PeerAccount: jsii.String("111111111111"),
		RemoteCidrs: jsii.Strings("10.0.0.0/16"),
	})
	require.NotNil(t, p.AttachmentID())
	tpl := constructstest.Synth(t, stack)

	att := tpl.Props(t, "AWS::EC2::TransitGatewayPeeringAttachment")
	assert.Equal(t, "eu-west-1", att["PeerRegion"])
	assert.Equal(t, "tgw-0hub", att["PeerTransitGatewayId"])

	crs := tpl.Resources("Custom::ObslinkTgwPeeringAccept")
	require.Len(t, crs, 1)
	var crID string
	for id, cr := range crs {
		crID = id
		assert.Equal(t, "eu-west-1", cr["Properties"].(map[string]any)["AccepterRegion"])
	}
	for _, typ := range []string{"AWS::EC2::TransitGatewayRouteTableAssociation", "AWS::EC2::TransitGatewayRoute"} {
		for _, r := range tpl.Resources(typ) {
			assert.Contains(t, js(r["DependsOn"]), crID, "%s waits for the acceptance", typ)
		}
	}

	// The function runs the handler tested against moto, inline, with least privilege.
	fn := tpl.Props(t, "AWS::Lambda::Function")
	code, err := assets.FS.ReadFile("tgw/accept_peering.py")
	require.NoError(t, err)
	assert.Equal(t, string(code), fn["Code"].(map[string]any)["ZipFile"])
	assert.Equal(t, "index.handler", fn["Handler"])
	assert.EqualValues(t, 900, fn["Timeout"])
	assert.Less(t, len(code), 4096, "inline Lambda code is limited to 4 KiB")
	policy := js(tpl.Props(t, "AWS::IAM::Policy")["PolicyDocument"])
	assert.Contains(t, policy, `"Action":"ec2:AcceptTransitGatewayPeeringAttachment"`)
	assert.Contains(t, policy, `:ec2:eu-west-1:111111111111:transit-gateway-attachment/`)
	assert.NotContains(t, policy, `"ec2:*"`)
}

func TestPeerRoutes(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	tgwmesh.NewPeerRoutes(stack, jsii.String("Hub"), &tgwmesh.PeerRoutesProps{
		RouteTableID: jsii.String("tgw-rtb-1"), AttachmentID: jsii.String("tgw-attach-1"), Cidrs: jsii.Strings("10.100.1.0/24"),
	})
	tpl := constructstest.Synth(t, stack)
	assoc := tpl.Props(t, "AWS::EC2::TransitGatewayRouteTableAssociation")
	assert.Equal(t, "tgw-attach-1", assoc["TransitGatewayAttachmentId"])
	route := tpl.Props(t, "AWS::EC2::TransitGatewayRoute")
	assert.Equal(t, "10.100.1.0/24", route["DestinationCidrBlock"])
}

func TestMisuse(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.Contains(t, r, `tgwmesh.NewGateway("Test/Gw"): props.ASN 0 is not a private ASN`)
	}()
	tgwmesh.NewGateway(stack, jsii.String("Gw"), &tgwmesh.GatewayProps{})
}

// TestAcceptHandlerAgainstMoto runs assets/tgw/test_accept_peering.py, which
// starts moto_server on 127.0.0.1 and drives the handler through create,
// accept, wait, delete and the error paths against the emulated EC2 API.
func TestAcceptHandlerAgainstMoto(t *testing.T) {
	nginxtest.PythonUnittest(t, "../../assets/tgw", "test_accept_peering")
}
