package stacks

import (
	"sort"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/peeringlink"
	"github.com/obslink/obslink/constructs/tgwmesh"
	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/internal/netutil"
	"github.com/obslink/obslink/topology"
)

// AccepterStackName is the stack, in the cluster's account, of the role that
// accepts the providers' peerings when they live in another account.
func AccepterStackName(t *topology.Topology) string { return deployment.AccepterStackName(t) }

// AccepterRoleName is the name of that role; providers name it in PeerRoleArn.
func AccepterRoleName(t *topology.Topology) string { return t.Name + "-peering-accepter" }

// NewAccepterStack creates, in the cluster's account, a role the provider
// account's CloudFormation execution roles may assume to accept VPC peerings
// into the cluster VPC from the provider VPCs, and nothing else
// (providerAccount differs from the cluster's account).
//
// AcceptVpcPeeringConnection authorizes two resources, each with its own
// condition keys: the accepter VPC (no peering keys) and the peering
// connection (ec2:AccepterVpc, ec2:RequesterVpc). One statement per resource,
// as in the VPC peering IAM examples: a peering-connection condition on a
// statement that also lists the VPC denies the VPC half.
func NewAccepterStack(scope constructs.Construct, id string, t *topology.Topology, props awscdk.StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props)
	cp := t.ControlPlane
	provider := cp.ProviderAccountID()
	partition := *awscdk.Aws_PARTITION()
	vpcArn := awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", partition, ":ec2:", cp.Region, ":", cp.Account, ":vpc/", cp.VPC.ID))
	// The trust names the account, not the roles: IAM refuses a principal
	// that does not exist yet and binds a role principal to the role's unique
	// id, so a re-bootstrapped provider region would lose access. The
	// condition admits only the execution roles of the provider regions.
	var execRoles, requesterVpcs []*string
	for _, r := range t.Regions {
		execRoles = append(execRoles, awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", partition, ":iam::", provider, ":role/"+execRoleName(provider, r.Region))))
		requesterVpcs = append(requesterVpcs, awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", partition, ":ec2:"+r.Region+":"+provider+":vpc/*")))
	}
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{
		RoleName: jsii.String(AccepterRoleName(t)),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(provider)).WithConditions(&map[string]any{
			"ArnEquals": map[string]any{"aws:PrincipalArn": execRoles},
		}),
		Description: jsii.String("obslink: lets the provider account accept its VPC peerings into the cluster VPC " + cp.VPC.ID),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AccepterVpc"),
		Actions:   jsii.Strings("ec2:AcceptVpcPeeringConnection"),
		Resources: &[]*string{vpcArn},
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("PeeringFromProviders"),
		Actions: jsii.Strings("ec2:AcceptVpcPeeringConnection"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", partition, ":ec2:", cp.Region, ":", cp.Account, ":vpc-peering-connection/*"))),
		Conditions: &map[string]any{
			"ArnEquals": map[string]any{"ec2:AccepterVpc": vpcArn},
			"ArnLike":   map[string]any{"ec2:RequesterVpc": requesterVpcs},
		},
	}))
	nag.Suppress(role, "AwsSolutions-IAM5",
		"Peering connection ids are not known before the providers request them; the statement only allows accepting peerings into the cluster VPC (ec2:AccepterVpc) from VPCs of the provider account in the provider regions (ec2:RequesterVpc).",
		"Resource::arn:<AWS::Partition>:ec2:"+cp.Region+":"+cp.Account+":vpc-peering-connection/*")
	return stack
}

// execRoleName is the CloudFormation execution role of the CDK bootstrap
// (default qualifier) in an account and region: the role each stack deploy
// runs as.
func execRoleName(account, region string) string {
	return "cdk-" + topology.BootstrapQualifier + "-cfn-exec-role-" + account + "-" + region
}

// HubStackName is the stack of the main region's Transit Gateway (tgw mode).
func HubStackName(t *topology.Topology) string { return deployment.HubStackName(t) }

// ControlPlaneStackName is the stack of the cluster-side routes, in the main region.
func ControlPlaneStackName(t *topology.Topology) string { return deployment.ControlPlaneStackName(t) }

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
	gw := tgwmesh.NewGateway(stack, jsii.String("Gateway"), &tgwmesh.GatewayProps{
		ASN: jsii.Number(float64(t.TransitGatewayASN(cp.Region))), Description: jsii.String("obslink hub " + cp.Region),
	})
	att := tgwmesh.NewVpcAttachment(stack, jsii.String("ClusterAttachment"), &tgwmesh.VpcAttachmentProps{
		TransitGatewayID: gw.ID(), RouteTableID: gw.RouteTableID(),
		VpcID: jsii.String(cp.VPC.ID), SubnetIDs: jsii.Strings(cp.VPC.SubnetIDs...), VpcCidr: jsii.String(cp.VPC.CIDR),
		Name: jsii.String("cluster " + cp.VPC.ID),
	})
	return &HubStack{Stack: stack, Gateway: gw, Attachment: att}
}

// clusterLink is what linkToCluster built in a provider stack.
type clusterLink struct {
	pcx               *string          // VPC peering to the cluster (peering, native)
	peeringAttachment *string          // TGW peering to the hub (tgw, other regions)
	gateway           *tgwmesh.Gateway // the region's own gateway (tgw, other regions)
	attachment        awscdk.CfnResource
	routeTables       []*string
}

// linkToCluster joins a provider VPC to the cluster: a peering connection
// (peering, native) or a Transit Gateway attachment and peering (tgw), with
// provider-side routes to the cluster's CIDR only.
func linkToCluster(stack awscdk.Stack, t *topology.Topology, r topology.Region, vpc awsec2.IVpc, hub *HubStack) clusterLink {
	cp := t.ControlPlane
	l := clusterLink{routeTables: netutil.RouteTableIDs(vpc)}
	switch t.InterRegion {
	case topology.TGW:
		var subnets []*string
		for _, s := range *vpc.SelectSubnets(nil).Subnets {
			subnets = append(subnets, s.SubnetId())
		}
		if r.Region == cp.Region { // same region as the hub: attach to it directly
			att := tgwmesh.NewVpcAttachment(stack, jsii.String("HubAttachment"), &tgwmesh.VpcAttachmentProps{
				TransitGatewayID: hub.Gateway.ID(), RouteTableID: hub.Gateway.RouteTableID(),
				VpcID: vpc.VpcId(), SubnetIDs: &subnets, VpcCidr: jsii.String(r.CIDR), Name: jsii.String("provider " + r.Region),
			})
			tgwmesh.NewVpcRoutes(stack, jsii.String("ClusterRoutes"), &tgwmesh.VpcRoutesProps{
				RouteTableIDs: &l.routeTables, DestinationCidrs: jsii.Strings(cp.VPC.CIDR),
				TransitGatewayID: hub.Gateway.ID(), After: att.Resource(),
			})
			l.attachment = att.Resource()
			return l
		}
		l.gateway = tgwmesh.NewGateway(stack, jsii.String("Gateway"), &tgwmesh.GatewayProps{
			ASN: jsii.Number(float64(t.TransitGatewayASN(r.Region))), Description: jsii.String("obslink " + r.Region),
		})
		att := tgwmesh.NewVpcAttachment(stack, jsii.String("GatewayAttachment"), &tgwmesh.VpcAttachmentProps{
			TransitGatewayID: l.gateway.ID(), RouteTableID: l.gateway.RouteTableID(),
			VpcID: vpc.VpcId(), SubnetIDs: &subnets, VpcCidr: jsii.String(r.CIDR), Name: jsii.String("provider " + r.Region),
		})
		l.attachment = att.Resource()
		peering := tgwmesh.NewPeering(stack, jsii.String("HubPeering"), &tgwmesh.PeeringProps{
			Local:                l.gateway,
			PeerTransitGatewayID: awscdk.Stack_ConsumeReference(hub.Gateway.ID(), awscdk.ReferenceStrength_WEAK),
			PeerRegion:           jsii.String(cp.Region), PeerAccount: jsii.String(cp.Account),
			RemoteCidrs: jsii.Strings(cp.VPC.CIDR),
		})
		tgwmesh.NewVpcRoutes(stack, jsii.String("ClusterRoutes"), &tgwmesh.VpcRoutesProps{
			RouteTableIDs: &l.routeTables, DestinationCidrs: jsii.Strings(cp.VPC.CIDR),
			TransitGatewayID: l.gateway.ID(), After: l.attachment,
		})
		l.peeringAttachment = peering.AttachmentID()
		return l
	default: // peering and native: a peering connection to the cluster VPC
		lp := &peeringlink.Props{
			Vpc: vpc, PeerVpcID: jsii.String(cp.VPC.ID), PeerCidr: jsii.String(cp.VPC.CIDR),
			PeerRegion: str(peerRegion(r.Region, cp.Region)), PeerAccount: jsii.String(cp.Account),
		}
		if cp.CrossAccountProviders() {
			lp.PeerRoleArn = jsii.String("arn:" + *awscdk.Aws_PARTITION() + ":iam::" + cp.Account + ":role/" + AccepterRoleName(t))
		}
		link := peeringlink.New(stack, jsii.String("ClusterPeering"), lp)
		l.pcx = link.ConnectionID()
		return l
	}
}

// MeshStackName is the stack that completes, in region, the full-mesh
// peerings other regions requested (tgwMesh: full).
func MeshStackName(t *topology.Topology, region string) string {
	return deployment.MeshStackName(t, region)
}

// buildFullMesh peers every pair of gateways outside the main region. For a
// pair, the region whose name sorts later requests the peering from its
// provider stack (which then depends on the other's); the accepter side's
// association and route go into a mesh stack in the accepter's region,
// deployed after both. Each provider VPC routes the other's CIDR to its own gateway.
func buildFullMesh(app constructs.Construct, t *topology.Topology, set *Set) {
	cp := t.ControlPlane
	var spokes []topology.Region
	for _, r := range t.Regions {
		if r.Region != cp.Region {
			spokes = append(spokes, r)
		}
	}
	sort.Slice(spokes, func(i, j int) bool { return spokes[i].Region < spokes[j].Region })
	set.Mesh = map[string]awscdk.Stack{}
	for i, a := range spokes {
		for _, b := range spokes[i+1:] {
			pa, pb := set.Providers[a.Region], set.Providers[b.Region]
			pb.Stack.AddStackDependency(pa.Stack, jsii.String("the peer gateway must exist before the mesh peering"))
			peering := tgwmesh.NewPeering(pb.Stack, jsii.String("MeshPeering-"+a.Region), &tgwmesh.PeeringProps{
				Local:                pb.link.gateway,
				PeerTransitGatewayID: pa.Read(pb.Stack, pa.link.gateway.ID(), "GatewayId"),
				PeerRegion:           jsii.String(a.Region), PeerAccount: jsii.String(cp.Account),
				RemoteCidrs: jsii.Strings(a.CIDR),
			})
			for _, side := range []struct {
				p    *ProviderStack
				peer topology.Region
			}{{pb, a}, {pa, b}} {
				tgwmesh.NewVpcRoutes(side.p.Stack, jsii.String("MeshRoutes-"+side.peer.Region), &tgwmesh.VpcRoutesProps{
					RouteTableIDs: &side.p.link.routeTables, DestinationCidrs: jsii.Strings(side.peer.CIDR),
					TransitGatewayID: side.p.link.gateway.ID(), After: side.p.link.attachment,
				})
			}
			mesh, ok := set.Mesh[a.Region]
			if !ok {
				mesh = awscdk.NewStack(app, jsii.String(MeshStackName(t, a.Region)),
					ptr(stackProps(t, cp.Account, a.Region, "obslink Transit Gateway mesh, accepter side, "+a.Region)))
				set.Mesh[a.Region] = mesh
			}
			mesh.AddStackDependency(pb.Stack, jsii.String("the peering is requested by "+b.Region))
			tgwmesh.NewPeerRoutes(mesh, jsii.String("From-"+b.Region), &tgwmesh.PeerRoutesProps{
				RouteTableID: pa.link.gateway.RouteTableID(),
				AttachmentID: pb.Read(mesh, peering.AttachmentID(), "MeshPeeringAttachmentId-"+a.Region),
				Cidrs:        jsii.Strings(b.CIDR),
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

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
				tgwmesh.NewPeerRoutes(stack, jsii.String(scopeID+"-Peering"), &tgwmesh.PeerRoutesProps{
					RouteTableID: hub.Gateway.RouteTableID(),
					AttachmentID: prov.Read(stack, prov.link.peeringAttachment, "HubPeeringAttachmentId"),
					Cidrs:        jsii.Strings(r.CIDR),
				})
			}
			tgwmesh.NewVpcRoutes(stack, jsii.String(scopeID+"-Routes"), &tgwmesh.VpcRoutesProps{
				RouteTableIDs: rts, DestinationCidrs: jsii.Strings(r.CIDR), TransitGatewayID: hub.Gateway.ID(),
			})
		default:
			peeringlink.NewRoutes(stack, jsii.String(scopeID+"-Routes"), &peeringlink.RoutesProps{
				RouteTableIDs:       rts,
				DestinationCidr:     jsii.String(r.CIDR),
				PeeringConnectionID: prov.Read(stack, prov.link.pcx, "ClusterPeeringId"),
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

func upstreamPorts(t *topology.Topology) []int {
	all := make([]int, len(t.Services))
	for i, s := range t.Services {
		all[i] = s.UpstreamPort
	}
	return netutil.Ports(all)
}
