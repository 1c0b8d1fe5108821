package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/peeringlink"
	"github.com/obslink/obslink/constructs/tgwmesh"
	"github.com/obslink/obslink/internal/netutil"
	"github.com/obslink/obslink/topology"
)

// HubStackName is the stack of the main region's Transit Gateway (tgw mode).
func HubStackName(t *topology.Topology) string { return t.Name + "-hub" }

// ControlPlaneStackName is the stack of the cluster-side routes, in the main region.
func ControlPlaneStackName(t *topology.Topology) string { return t.Name + "-control-plane" }

// HubStack holds the main region's Transit Gateway and the cluster VPC's
// attachment (tgw mode). It deploys before the providers.
type HubStack struct {
	awscdk.Stack
	Gateway    *tgwmesh.Gateway
	Attachment *tgwmesh.VpcAttachment
}

// NewHubStack creates the hub of a tgw topology.
func NewHubStack(scope constructs.Construct, id string, t *topology.Topology, props awscdk.StackProps) *HubStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props)
	cp := t.ControlPlane
	gw := tgwmesh.NewGateway(stack, "Gateway", &tgwmesh.GatewayProps{
		ASN: t.TransitGatewayASN(cp.Region), Description: "obslink hub " + cp.Region,
	})
	att := tgwmesh.NewVpcAttachment(stack, "ClusterAttachment", &tgwmesh.VpcAttachmentProps{
		TransitGatewayID: gw.ID(), RouteTableID: gw.RouteTableID(),
		VpcID: jsii.String(cp.VPC.ID), SubnetIDs: *jsii.Strings(cp.VPC.SubnetIDs...), VpcCidr: jsii.String(cp.VPC.CIDR),
		Name: "cluster " + cp.VPC.ID,
	})
	return &HubStack{Stack: stack, Gateway: gw, Attachment: att}
}

// linkToCluster joins a provider VPC to the cluster: a peering connection
// (peering, native) or a Transit Gateway attachment and peering (tgw), with
// provider-side routes to the cluster's CIDR only.
func linkToCluster(stack awscdk.Stack, t *topology.Topology, r topology.Region, vpc awsec2.IVpc, hub *HubStack) (pcx, peeringAttachment *string) {
	cp := t.ControlPlane
	routeTables := netutil.RouteTableIDs(vpc)
	switch t.InterRegion {
	case topology.TGW:
		var subnets []*string
		for _, s := range *vpc.SelectSubnets(nil).Subnets {
			subnets = append(subnets, s.SubnetId())
		}
		if r.Region == cp.Region { // same region as the hub: attach to it directly
			att := tgwmesh.NewVpcAttachment(stack, "HubAttachment", &tgwmesh.VpcAttachmentProps{
				TransitGatewayID: hub.Gateway.ID(), RouteTableID: hub.Gateway.RouteTableID(),
				VpcID: vpc.VpcId(), SubnetIDs: subnets, VpcCidr: jsii.String(r.CIDR), Name: "provider " + r.Region,
			})
			tgwmesh.NewVpcRoutes(stack, "ClusterRoutes", &tgwmesh.VpcRoutesProps{
				RouteTableIDs: routeTables, DestinationCidrs: []string{cp.VPC.CIDR},
				TransitGatewayID: hub.Gateway.ID(), After: att.Resource(),
			})
			return nil, nil
		}
		gw := tgwmesh.NewGateway(stack, "Gateway", &tgwmesh.GatewayProps{
			ASN: t.TransitGatewayASN(r.Region), Description: "obslink " + r.Region,
		})
		att := tgwmesh.NewVpcAttachment(stack, "GatewayAttachment", &tgwmesh.VpcAttachmentProps{
			TransitGatewayID: gw.ID(), RouteTableID: gw.RouteTableID(),
			VpcID: vpc.VpcId(), SubnetIDs: subnets, VpcCidr: jsii.String(r.CIDR), Name: "provider " + r.Region,
		})
		peering := tgwmesh.NewPeering(stack, "HubPeering", &tgwmesh.PeeringProps{
			Local:                gw,
			PeerTransitGatewayID: awscdk.Stack_ConsumeReference(hub.Gateway.ID(), awscdk.ReferenceStrength_WEAK),
			PeerRegion:           cp.Region, PeerAccount: cp.Account,
			RemoteCidrs: []string{cp.VPC.CIDR},
		})
		tgwmesh.NewVpcRoutes(stack, "ClusterRoutes", &tgwmesh.VpcRoutesProps{
			RouteTableIDs: routeTables, DestinationCidrs: []string{cp.VPC.CIDR},
			TransitGatewayID: gw.ID(), After: att.Resource(),
		})
		return nil, peering.AttachmentID()
	default: // peering and native: a peering connection to the cluster VPC
		link := peeringlink.New(stack, "ClusterPeering", &peeringlink.Props{
			Vpc: vpc, PeerVpcID: cp.VPC.ID, PeerCidr: cp.VPC.CIDR,
			PeerRegion: peerRegion(r.Region, cp.Region), PeerAccount: cp.Account,
		})
		return link.ConnectionID(), nil
	}
}

// peerRegion is the cluster's region for a peering from region, or "" when
// both are the same region (CloudFormation then leaves PeerRegion out).
func peerRegion(region, main string) string {
	if region == main {
		return ""
	}
	return main
}

// ControlPlaneStack holds what the cluster side needs in the main region:
// return routes in the cluster VPC's route tables to each provider CIDR, the
// hub side of each Transit Gateway peering, and (optionally) ingress rules on
// the ALBs' security groups. It deploys after the providers.
type ControlPlaneStack struct {
	awscdk.Stack
}

// NewControlPlaneStack creates the control-plane stack.
func NewControlPlaneStack(scope constructs.Construct, id string, t *topology.Topology, props awscdk.StackProps, providers map[string]*ProviderStack, hub *HubStack) *ControlPlaneStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props)
	cp := t.ControlPlane
	rts := jsii.Strings(cp.VPC.RouteTableIDs...)
	for _, r := range t.Regions {
		prov := providers[r.Region]
		stack.AddStackDependency(prov.Stack, jsii.String("routes need the provider's link to exist"))
		scopeID := "Provider-" + r.Region
		switch t.InterRegion {
		case topology.TGW:
			if r.Region != cp.Region {
				tgwmesh.NewPeerRoutes(stack, scopeID+"-Peering", &tgwmesh.PeerRoutesProps{
					RouteTableID: hub.Gateway.RouteTableID(),
					AttachmentID: reference(prov.PeeringAttachmentID, r.Region, cp.Region),
					Cidrs:        []string{r.CIDR},
				})
			}
			tgwmesh.NewVpcRoutes(stack, scopeID+"-Routes", &tgwmesh.VpcRoutesProps{
				RouteTableIDs: *rts, DestinationCidrs: []string{r.CIDR}, TransitGatewayID: hub.Gateway.ID(),
			})
		default:
			peeringlink.NewRoutes(stack, scopeID+"-Routes", &peeringlink.RoutesProps{
				RouteTableIDs:       *rts,
				DestinationCidr:     r.CIDR,
				PeeringConnectionID: reference(prov.PeeringConnectionID, r.Region, cp.Region),
			})
		}
		for _, sg := range cp.VPC.ALBSecurityGroupIDs {
			for _, port := range upstreamPorts(t) {
				awsec2.NewCfnSecurityGroupIngress(stack, jsii.String(scopeID+"-"+sg+"-"+strconv.Itoa(port)), &awsec2.CfnSecurityGroupIngressProps{
					GroupId:     jsii.String(sg),
					IpProtocol:  jsii.String("tcp"),
					FromPort:    jsii.Number(float64(port)),
					ToPort:      jsii.Number(float64(port)),
					CidrIp:      jsii.String(r.CIDR),
					Description: jsii.String("obslink proxies in " + r.Region),
				})
			}
		}
	}
	if hub != nil {
		stack.AddStackDependency(hub.Stack, jsii.String("routes to the hub gateway"))
	}
	return &ControlPlaneStack{Stack: stack}
}

// reference passes a value from a provider stack: a plain reference in the
// main region, a weak one (Fn::GetStackOutput) from another region.
func reference(v *string, from, main string) *string {
	if from == main {
		return v
	}
	return awscdk.Stack_ConsumeReference(v, awscdk.ReferenceStrength_WEAK)
}

func upstreamPorts(t *topology.Topology) []int {
	all := make([]int, len(t.Services))
	for i, s := range t.Services {
		all[i] = s.UpstreamPort
	}
	return netutil.Ports(all)
}
