package test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

func synthFile(t *testing.T, path string) (*topology.Topology, Assembly) {
	t.Helper()
	topo, err := topology.Load(path)
	require.NoError(t, err)
	return topo, namedTopology{path, topo}.synth(t)
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// count returns the number of resources of typ in every stack of a.
func count(t *testing.T, a Assembly, typ string) int {
	n := 0
	for name := range a.Stacks() {
		n += len(a.Template(t, name).Of(typ))
	}
	return n
}

func TestPeeringMode(t *testing.T) {
	topo, a := synthFile(t, "../examples/peering.yaml")
	cp := topo.ControlPlane
	assert.Zero(t, count(t, a, "AWS::EC2::TransitGateway"))
	control := a.Template(t, "obspeer-control-plane")

	for _, r := range topo.Regions {
		stack := "obspeer-provider-" + r.Region
		tpl := a.Template(t, stack)
		pcx := tpl.Of("AWS::EC2::VPCPeeringConnection")
		require.Len(t, pcx, 1, stack)
		var pcxID string
		for id, p := range pcx {
			pcxID = id
			assert.Equal(t, cp.VPC.ID, p.Properties["PeerVpcId"])
			assert.Equal(t, cp.Account, p.Properties["PeerOwnerId"])
			if r.Region == cp.Region {
				assert.NotContains(t, p.Properties, "PeerRegion", "same-region peering")
			} else {
				assert.Equal(t, cp.Region, p.Properties["PeerRegion"], "peered to the main region")
			}
			assert.NotContains(t, p.Properties, "PeerRoleArn", "same account: no accepter role")
		}
		// Provider side: only the cluster's CIDR, through this peering, in every subnet's table.
		routes := tpl.Of("AWS::EC2::Route")
		assert.Len(t, routes, len(r.AvailabilityZones))
		for _, rt := range routes {
			assert.Equal(t, cp.VPC.CIDR, rt.Properties["DestinationCidrBlock"])
			assert.Equal(t, map[string]any{"Ref": pcxID}, rt.Properties["VpcPeeringConnectionId"])
		}
		// Cluster side: only this provider's CIDR, in each listed route table, through its peering.
		var back []Resource
		for _, rt := range control.Of("AWS::EC2::Route") {
			if rt.Properties["DestinationCidrBlock"] == r.CIDR {
				back = append(back, rt)
			}
		}
		require.Len(t, back, len(cp.VPC.RouteTableIDs), "return routes for %s", r.Region)
		for _, rt := range back {
			ref := js(rt.Properties["VpcPeeringConnectionId"])
			if r.Region == cp.Region {
				assert.Contains(t, ref, `"Fn::ImportValue":"`+stack+`:`)
			} else {
				assert.Contains(t, ref, `"Fn::GetStackOutput"`)
				assert.Contains(t, ref, `"StackName":"`+stack+`"`)
				assert.Contains(t, ref, `"Region":"`+r.Region+`"`)
			}
		}
	}
	// Cluster routes cover nothing but provider CIDRs (never a consumer's).
	for _, rt := range control.Of("AWS::EC2::Route") {
		_, ok := map[string]bool{"10.100.0.0/24": true, "10.100.1.0/24": true}[rt.Properties["DestinationCidrBlock"].(string)]
		assert.True(t, ok, "unexpected destination %v", rt.Properties["DestinationCidrBlock"])
	}
	// The ALBs' group admits each provider CIDR on each upstream port (80, 443).
	var rules []string
	for _, in := range control.Of("AWS::EC2::SecurityGroupIngress") {
		p := in.Properties
		rules = append(rules, fmt.Sprintf("%s %s %v", p["GroupId"], p["CidrIp"], p["FromPort"]))
	}
	assert.ElementsMatch(t, []string{
		"sg-0a1b2c3d4e5f60718 10.100.0.0/24 80", "sg-0a1b2c3d4e5f60718 10.100.0.0/24 443",
		"sg-0a1b2c3d4e5f60718 10.100.1.0/24 80", "sg-0a1b2c3d4e5f60718 10.100.1.0/24 443",
	}, rules)
}

func TestTransitGatewayMode(t *testing.T) {
	topo, a := synthFile(t, "../examples/tgw.yaml")
	cp := topo.ControlPlane
	assert.Zero(t, count(t, a, "AWS::EC2::VPCPeeringConnection"))

	hub := a.Template(t, "obstgw-hub")
	asns := map[float64]string{}
	for _, g := range hub.Of("AWS::EC2::TransitGateway") {
		asns[g.Properties["AmazonSideAsn"].(float64)] = "hub"
		assert.Equal(t, "disable", g.Properties["DefaultRouteTableAssociation"], "explicit route tables only")
		assert.Equal(t, "disable", g.Properties["DefaultRouteTablePropagation"])
	}
	for _, att := range hub.Of("AWS::EC2::TransitGatewayVpcAttachment") {
		assert.Equal(t, cp.VPC.ID, att.Properties["VpcId"])
		assert.Equal(t, []any{"subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"}, att.Properties["SubnetIds"])
	}
	control := a.Template(t, "obstgw-control-plane")
	assert.Contains(t, a.Stacks()["obstgw-control-plane"].Dependencies, "obstgw-hub")

	for _, r := range topo.Regions {
		stack := "obstgw-provider-" + r.Region
		tpl := a.Template(t, stack)
		assert.Contains(t, a.Stacks()[stack].Dependencies, "obstgw-hub")
		if r.Region == cp.Region {
			assert.Empty(t, tpl.Of("AWS::EC2::TransitGateway"), "the main region's provider uses the hub")
			assert.Len(t, tpl.Of("AWS::EC2::TransitGatewayVpcAttachment"), 1)
			continue
		}
		gws := tpl.Of("AWS::EC2::TransitGateway")
		require.Len(t, gws, 1)
		for _, g := range gws {
			asn := g.Properties["AmazonSideAsn"].(float64)
			assert.NotContains(t, asns, asn, "ASN %v of %s is taken by %s", asn, r.Region, asns[asn])
			asns[asn] = r.Region
			assert.Equal(t, float64(topo.TransitGatewayASN(r.Region)), asn)
		}
		peerings := tpl.Of("AWS::EC2::TransitGatewayPeeringAttachment")
		require.Len(t, peerings, 1)
		var peeringID string
		for id, p := range peerings {
			peeringID = id
			assert.Equal(t, cp.Region, p.Properties["PeerRegion"])
			assert.Equal(t, cp.Account, p.Properties["PeerAccountId"])
			assert.Contains(t, js(p.Properties["PeerTransitGatewayId"]), `"StackName":"obstgw-hub"`)
		}
		// Accepted in the hub's region by the custom resource; the spoke's
		// association and static route wait for it.
		var acceptID string
		for id, cr := range tpl.Of("Custom::ObslinkTgwPeeringAccept") {
			acceptID = id
			assert.Equal(t, cp.Region, cr.Properties["AccepterRegion"])
			assert.Contains(t, js(cr.Properties["AttachmentId"]), peeringID)
		}
		require.NotEmpty(t, acceptID)
		for _, typ := range []string{"AWS::EC2::TransitGatewayRouteTableAssociation", "AWS::EC2::TransitGatewayRoute"} {
			for _, res := range tpl.Of(typ) {
				if strings.Contains(js(res.Properties["TransitGatewayAttachmentId"]), peeringID) {
					assert.Contains(t, js(res.DependsOn), acceptID, "%s must wait for acceptance", typ)
				}
			}
		}
		// Static route on the spoke side: the cluster's CIDR through the peering.
		found := false
		for _, res := range tpl.Of("AWS::EC2::TransitGatewayRoute") {
			if res.Properties["DestinationCidrBlock"] == cp.VPC.CIDR && strings.Contains(js(res.Properties["TransitGatewayAttachmentId"]), peeringID) {
				found = true
			}
		}
		assert.True(t, found, "%s: no static route to the cluster through the peering", r.Region)
		// VPC routes to the gateway wait for the VPC's attachment (aws-cdk#8584).
		for _, rt := range tpl.Of("AWS::EC2::Route") {
			assert.Equal(t, cp.VPC.CIDR, rt.Properties["DestinationCidrBlock"])
			assert.NotEmpty(t, rt.DependsOn)
		}
		// Hub side, in the control plane: association and static route to this spoke's CIDR.
		hubSide := 0
		for _, typ := range []string{"AWS::EC2::TransitGatewayRouteTableAssociation", "AWS::EC2::TransitGatewayRoute"} {
			for _, res := range control.Of(typ) {
				ref := js(res.Properties["TransitGatewayAttachmentId"])
				if strings.Contains(ref, `"StackName":"`+stack+`"`) {
					hubSide++
					if typ == "AWS::EC2::TransitGatewayRoute" {
						assert.Equal(t, r.CIDR, res.Properties["DestinationCidrBlock"])
					}
				}
			}
		}
		assert.Equal(t, 2, hubSide, "%s: hub-side association and route", r.Region)
	}
	// Cluster VPC routes: each provider CIDR to the hub, in each listed table.
	assert.Len(t, control.Of("AWS::EC2::Route"), len(topo.Regions)*len(cp.VPC.RouteTableIDs))
}

func TestNativeMode(t *testing.T) {
	topo, a := synthFile(t, "../examples/native.yaml")
	cp := topo.ControlPlane
	for _, typ := range []string{"AWS::EC2::TransitGateway", "AWS::EC2::TransitGatewayPeeringAttachment"} {
		assert.Zero(t, count(t, a, typ), typ)
	}
	assert.Equal(t, 1, count(t, a, "AWS::AutoScaling::AutoScalingGroup"), "proxies only in the main region")
	assert.Equal(t, 1, count(t, a, "AWS::EC2::VPCPeeringConnection"), "one same-region link to the cluster")

	prov := a.Template(t, "obsnative-provider-"+cp.Region)
	for _, p := range prov.Of("AWS::EC2::VPCPeeringConnection") {
		assert.NotContains(t, p.Properties, "PeerRegion")
	}
	for _, svc := range prov.Of("AWS::EC2::VPCEndpointService") {
		assert.Equal(t, []any{"ap-northeast-1", "eu-central-1"}, svc.Properties["SupportedRegions"])
	}
	for _, c := range topo.Consumers {
		stack := "obsnative-consumer-" + c.Name
		assert.Contains(t, a.Stacks()[stack].Dependencies, "obsnative-provider-"+cp.Region)
		ep, name := endpointOf(t, a.Template(t, stack))
		assert.Contains(t, name, "com.amazonaws.vpce."+cp.Region)
		if c.Region == cp.Region {
			assert.NotContains(t, ep, "ServiceRegion")
		} else {
			assert.Equal(t, cp.Region, ep["ServiceRegion"], "%s connects across regions", c.Name)
		}
	}
}

// TestOneWayInEveryMode: consumer VPCs never get a route, a gateway or a
// peering, whatever the mode.
func TestOneWayInEveryMode(t *testing.T) {
	for _, f := range exampleFiles(t) {
		_, a := synthFile(t, f)
		for name := range a.Stacks() {
			if !strings.Contains(name, "-consumer-") {
				continue
			}
			tpl := a.Template(t, name)
			for _, typ := range []string{"AWS::EC2::Route", "AWS::EC2::InternetGateway", "AWS::EC2::NatGateway",
				"AWS::EC2::VPCPeeringConnection", "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment"} {
				assert.Empty(t, tpl.Of(typ), "%s: %s has %s", f, name, typ)
			}
		}
	}
}

// TestTransitGatewayFullMesh: with tgwMesh: full, the two spoke gateways are
// peered too. us-east-1 sorts after ap-southeast-2, so it requests; the
// accepter side (association and route) goes into the mesh stack in
// ap-southeast-2, deployed after both providers; each provider VPC routes
// the other's CIDR to its own gateway.
func TestTransitGatewayFullMesh(t *testing.T) {
	b, err := os.ReadFile("../examples/tgw.yaml")
	require.NoError(t, err)
	text := strings.Replace(string(b), "\ninterRegion: tgw\n", "\ninterRegion: tgw\ntgwMesh: full\n", 1)
	topo, err := topology.Parse("mesh.yaml", []byte(text))
	require.NoError(t, err)
	a := synth(t, topo)

	requester := a.Template(t, "obstgw-provider-us-east-1")
	var meshPeering string
	for id, p := range requester.Of("AWS::EC2::TransitGatewayPeeringAttachment") {
		if p.Properties["PeerRegion"] == "ap-southeast-2" {
			meshPeering = id
			assert.Contains(t, js(p.Properties["PeerTransitGatewayId"]), `"StackName":"obstgw-provider-ap-southeast-2"`)
		}
	}
	require.NotEmpty(t, meshPeering, "us-east-1 requests a peering with ap-southeast-2")
	accepted := false
	for _, cr := range requester.Of("Custom::ObslinkTgwPeeringAccept") {
		if cr.Properties["AccepterRegion"] == "ap-southeast-2" && strings.Contains(js(cr.Properties["AttachmentId"]), meshPeering) {
			accepted = true
		}
	}
	assert.True(t, accepted, "accepted in ap-southeast-2")
	assert.Contains(t, a.Stacks()["obstgw-provider-us-east-1"].Dependencies, "obstgw-provider-ap-southeast-2")

	mesh := a.Template(t, "obstgw-mesh-ap-southeast-2")
	assert.Equal(t, "aws://111111111111/ap-southeast-2", a.Stacks()["obstgw-mesh-ap-southeast-2"].Environment)
	assert.Contains(t, a.Stacks()["obstgw-mesh-ap-southeast-2"].Dependencies, "obstgw-provider-us-east-1")
	require.Len(t, mesh.Of("AWS::EC2::TransitGatewayRouteTableAssociation"), 1)
	for _, r := range mesh.Of("AWS::EC2::TransitGatewayRoute") {
		assert.Equal(t, "10.100.1.0/24", r.Properties["DestinationCidrBlock"])
		assert.Contains(t, js(r.Properties["TransitGatewayAttachmentId"]), `"StackName":"obstgw-provider-us-east-1"`)
	}
	// VPC routes to the other spoke on both sides.
	for stack, want := range map[string]struct {
		cidr   string
		tables int // one per zone
	}{"obstgw-provider-us-east-1": {"10.100.2.0/24", 5}, "obstgw-provider-ap-southeast-2": {"10.100.1.0/24", 3}} {
		n := 0
		for _, r := range a.Template(t, stack).Of("AWS::EC2::Route") {
			if r.Properties["DestinationCidrBlock"] == want.cidr {
				n++
			}
		}
		assert.Equal(t, want.tables, n, "%s routes %s in each of its %d route tables", stack, want.cidr, want.tables)
	}
	// The hub-and-spoke default has none of this.
	_, hub := synthFile(t, "../examples/tgw.yaml")
	assert.NotContains(t, hub.Stacks(), "obstgw-mesh-ap-southeast-2")
}

// TestProvidersInAnotherAccount: with controlPlane.providerAccount, the
// providers deploy to that account, the cluster account gets a role that can
// only accept peerings into the cluster VPC, each peering names it, and the
// cluster-side routes read the peering ids across accounts.
func TestProvidersInAnotherAccount(t *testing.T) {
	topo, a := synthFile(t, "../examples/peering-provider-account.yaml")
	cp := topo.ControlPlane
	accepter := "obsnet-peering-accepter"
	assert.Equal(t, "aws://"+cp.Account+"/"+cp.Region, a.Stacks()[accepter].Environment)
	roles := a.Template(t, accepter).Of("AWS::IAM::Role")
	require.Len(t, roles, 1)
	for _, r := range roles {
		assert.Equal(t, "obsnet-peering-accepter", r.Properties["RoleName"])
		assert.Contains(t, js(r.Properties["AssumeRolePolicyDocument"]), ":iam::555555555555:root")
	}
	for _, p := range a.Template(t, accepter).Of("AWS::IAM::Policy") {
		doc := js(p.Properties["PolicyDocument"])
		assert.Contains(t, doc, `"Action":"ec2:AcceptVpcPeeringConnection"`)
		assert.Contains(t, doc, `"ec2:AccepterVpc"`)
	}
	for _, r := range topo.Regions {
		stack := "obsnet-provider-" + r.Region
		assert.Equal(t, "aws://555555555555/"+r.Region, a.Stacks()[stack].Environment)
		assert.Contains(t, a.Stacks()[stack].Dependencies, accepter)
		for _, p := range a.Template(t, stack).Of("AWS::EC2::VPCPeeringConnection") {
			assert.Equal(t, cp.Account, p.Properties["PeerOwnerId"])
			assert.Contains(t, js(p.Properties["PeerRoleArn"]), ":iam::"+cp.Account+":role/obsnet-peering-accepter")
		}
	}
	for _, rt := range a.Template(t, "obsnet-control-plane").Of("AWS::EC2::Route") {
		assert.Contains(t, js(rt.Properties["VpcPeeringConnectionId"]), `"Fn::GetStackOutput"`, "even in the main region: another account")
	}
}
