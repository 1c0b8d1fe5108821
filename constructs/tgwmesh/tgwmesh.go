// Package tgwmesh is the Transit Gateway way to join provider regions to
// the main region: a Gateway per region (its own ASN and an
// explicit route table, no default association or propagation), VPC
// attachments, and Peering from a spoke region's gateway to the hub's,
// accepted in the hub's region by a custom resource that waits until the
// attachment is available, with static routes on both sides.
package tgwmesh

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/inline"
	"github.com/obslink/obslink/internal/nag"
)

// GatewayProps configures a Gateway.
type GatewayProps struct {
	// ASN of the gateway; each gateway of a mesh needs its own. Required.
	ASN *float64
	// Description of the gateway. Default: "obslink".
	Description *string
}

// Gateway is a Transit Gateway with one route table that every attachment
// is associated with explicitly.
type Gateway struct {
	constructs.Construct
	tgw awsec2.CfnTransitGateway
	rt  awsec2.CfnTransitGatewayRouteTable
}

// NewGateway creates a Transit Gateway and its route table.
func NewGateway(scope constructs.Construct, id *string, props *GatewayProps) *Gateway {
	chk := check.New("tgwmesh.NewGateway", scope, id)
	var asn int
	if props == nil {
		chk.Add("props", "is nil; pass &tgwmesh.GatewayProps{ASN: ...}")
	} else {
		asn = chk.Int("props.ASN", props.ASN, 0)
		chk.ASN("props.ASN", int64(asn))
	}
	chk.Panic()
	desc := check.Str(props.Description)
	if desc == "" {
		desc = "obslink"
	}
	g := &Gateway{}
	constructs.NewConstruct_Override(g, scope, id)
	g.tgw = awsec2.NewCfnTransitGateway(g.Construct, jsii.String("Resource"), &awsec2.CfnTransitGatewayProps{
		AmazonSideAsn:                jsii.Number(float64(asn)),
		Description:                  jsii.String(desc),
		DefaultRouteTableAssociation: jsii.String("disable"),
		DefaultRouteTablePropagation: jsii.String("disable"),
		AutoAcceptSharedAttachments:  jsii.String("disable"),
		DnsSupport:                   jsii.String("enable"),
		Tags:                         &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(desc)}},
	})
	g.rt = awsec2.NewCfnTransitGatewayRouteTable(g.Construct, jsii.String("RouteTable"), &awsec2.CfnTransitGatewayRouteTableProps{
		TransitGatewayId: g.tgw.Ref(),
		Tags:             &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(desc)}},
	})
	return g
}

// ID is the Transit Gateway id (tgw-...).
func (g *Gateway) ID() *string { return g.tgw.Ref() }

// RouteTableID is the id of the gateway's route table.
func (g *Gateway) RouteTableID() *string { return g.rt.Ref() }

// VpcAttachmentProps configures a VpcAttachment.
type VpcAttachmentProps struct {
	// TransitGatewayID and RouteTableID of the gateway to attach to. Required.
	TransitGatewayID, RouteTableID *string
	// VpcID is the VPC to attach. Required.
	VpcID *string
	// SubnetIDs are the attachment's subnets, one per zone. Required.
	SubnetIDs *[]*string
	// VpcCidr is the VPC's CIDR, routed to it by a static route in the
	// gateway's route table. Required.
	VpcCidr *string
	// Name tags the attachment ("obslink <Name>"). Default: "obslink ".
	Name *string
}

// VpcAttachment attaches a VPC to a gateway, associates it with the gateway's
// route table and routes the VPC's CIDR to it.
type VpcAttachment struct {
	constructs.Construct
	att awsec2.CfnTransitGatewayVpcAttachment
}

// NewVpcAttachment creates the attachment, its association and route. It
// panics on props that cannot describe one, naming the fields.
func NewVpcAttachment(scope constructs.Construct, id *string, props *VpcAttachmentProps) *VpcAttachment {
	chk := check.New("tgwmesh.NewVpcAttachment", scope, id)
	if props == nil {
		chk.Add("props", "is nil; pass &tgwmesh.VpcAttachmentProps{TransitGatewayID: ..., RouteTableID: ..., VpcID: ..., SubnetIDs: ..., VpcCidr: ...}")
	} else {
		required(chk, "props.TransitGatewayID", props.TransitGatewayID, "the gateway's id (Gateway.ID())")
		required(chk, "props.RouteTableID", props.RouteTableID, "the gateway's route table (Gateway.RouteTableID())")
		required(chk, "props.VpcID", props.VpcID, "the VPC's id")
		if len(chk.Strings("props.SubnetIDs", props.SubnetIDs)) == 0 {
			chk.Add("props.SubnetIDs", "is empty; give one subnet per zone of the VPC")
		}
		if required(chk, "props.VpcCidr", props.VpcCidr, "the VPC's CIDR") {
			chk.CIDR("props.VpcCidr", *props.VpcCidr)
		}
	}
	chk.Panic()
	a := &VpcAttachment{}
	constructs.NewConstruct_Override(a, scope, id)
	a.att = awsec2.NewCfnTransitGatewayVpcAttachment(a.Construct, jsii.String("Resource"), &awsec2.CfnTransitGatewayVpcAttachmentProps{
		TransitGatewayId: props.TransitGatewayID,
		VpcId:            props.VpcID,
		SubnetIds:        props.SubnetIDs,
		Tags:             &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String("obslink " + check.Str(props.Name))}},
	})
	awsec2.NewCfnTransitGatewayRouteTableAssociation(a.Construct, jsii.String("Association"), &awsec2.CfnTransitGatewayRouteTableAssociationProps{
		TransitGatewayAttachmentId: a.att.AttrId(),
		TransitGatewayRouteTableId: props.RouteTableID,
	})
	awsec2.NewCfnTransitGatewayRoute(a.Construct, jsii.String("Route"), &awsec2.CfnTransitGatewayRouteProps{
		TransitGatewayRouteTableId: props.RouteTableID,
		TransitGatewayAttachmentId: a.att.AttrId(),
		DestinationCidrBlock:       props.VpcCidr,
	})
	return a
}

// ID is the attachment id.
func (a *VpcAttachment) ID() *string { return a.att.AttrId() }

// Resource is the attachment; routes in the VPC to the gateway must depend on it.
func (a *VpcAttachment) Resource() awscdk.CfnResource { return a.att }

// VpcRoutesProps configures VpcRoutes.
type VpcRoutesProps struct {
	// RouteTableIDs get one route each. Required.
	RouteTableIDs *[]*string
	// DestinationCidrs are the only destinations routed. Required.
	DestinationCidrs *[]*string
	// TransitGatewayID is the target. Required.
	TransitGatewayID *string
	// After is the VPC's attachment when it is in the same stack: a route to a
	// gateway fails until the VPC is attached (aws-cdk#8584). Default: none.
	After awscdk.CfnResource
}

// NewVpcRoutes adds routes from a VPC's route tables to the gateway. It
// panics on props that cannot describe them, naming the fields.
func NewVpcRoutes(scope constructs.Construct, id *string, props *VpcRoutesProps) constructs.Construct {
	chk := check.New("tgwmesh.NewVpcRoutes", scope, id)
	var tables, destinations []string
	if props == nil {
		chk.Add("props", "is nil; pass &tgwmesh.VpcRoutesProps{RouteTableIDs: ..., DestinationCidrs: ..., TransitGatewayID: ...}")
	} else {
		if tables = chk.Strings("props.RouteTableIDs", props.RouteTableIDs); len(tables) == 0 {
			chk.Add("props.RouteTableIDs", "is empty; give the VPC's route tables")
		}
		destinations = cidrs(chk, "props.DestinationCidrs", props.DestinationCidrs)
		required(chk, "props.TransitGatewayID", props.TransitGatewayID, "the gateway's id")
	}
	chk.Panic()
	c := constructs.NewConstruct(scope, id)
	for i, rt := range tables {
		rid := fmt.Sprint(i)
		if !check.IsToken(rt) {
			rid = rt
		}
		for j, cidr := range destinations {
			r := awsec2.NewCfnRoute(c, jsii.String("Route-"+rid+"-"+cidrID(j, cidr)), &awsec2.CfnRouteProps{
				RouteTableId:         jsii.String(rt),
				DestinationCidrBlock: jsii.String(cidr),
				TransitGatewayId:     props.TransitGatewayID,
			})
			if props.After != nil {
				r.Node().AddDependency(props.After)
			}
		}
	}
	return c
}

// PeeringProps configures a Peering.
type PeeringProps struct {
	// Local is the spoke's gateway (the requester). Required.
	Local *Gateway
	// PeerTransitGatewayID is the hub's gateway. Required.
	PeerTransitGatewayID *string
	// PeerRegion is the hub's region. Required.
	PeerRegion *string
	// PeerAccount is the hub's account. Required.
	PeerAccount *string
	// RemoteCidrs are routed through the peering in Local's route table. Required.
	RemoteCidrs *[]*string
}

// Peering is a peering attachment from a spoke gateway to the hub, its
// acceptance in the hub's region, and the spoke side's association and routes.
// The hub side (association and routes in the hub's table) is PeerRoutes, in
// the hub's region.
type Peering struct {
	constructs.Construct
	att    awsec2.CfnTransitGatewayPeeringAttachment
	accept awscdk.CustomResource
}

// NewPeering creates the peering and accepts it.
func NewPeering(scope constructs.Construct, id *string, props *PeeringProps) *Peering {
	chk := check.New("tgwmesh.NewPeering", scope, id)
	var region, account string
	var remote []string
	if props == nil {
		chk.Add("props", "is nil; pass &tgwmesh.PeeringProps{Local: ..., PeerTransitGatewayID: ..., PeerRegion: ..., PeerAccount: ..., RemoteCidrs: ...}")
	} else {
		region, account = check.Str(props.PeerRegion), check.Str(props.PeerAccount)
		if props.Local == nil {
			chk.Add("props.Local", "is nil; give the spoke's Gateway")
		}
		required(chk, "props.PeerTransitGatewayID", props.PeerTransitGatewayID, "the hub gateway's id (tgw-...)")
		if region == "" {
			chk.Add("props.PeerRegion", "is empty; give the hub's region")
		}
		chk.Account("props.PeerAccount", account, "the hub's account")
		remote = cidrs(chk, "props.RemoteCidrs", props.RemoteCidrs)
	}
	chk.Panic()
	p := &Peering{}
	constructs.NewConstruct_Override(p, scope, id)
	p.att = awsec2.NewCfnTransitGatewayPeeringAttachment(p.Construct, jsii.String("Resource"), &awsec2.CfnTransitGatewayPeeringAttachmentProps{
		TransitGatewayId:     props.Local.ID(),
		PeerTransitGatewayId: props.PeerTransitGatewayID,
		PeerRegion:           jsii.String(region),
		PeerAccountId:        jsii.String(account),
		Tags:                 &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String("obslink to " + region)}},
	})
	fn := acceptFunction(p.Construct, region, account, p.att.AttrTransitGatewayAttachmentId())
	p.accept = awscdk.NewCustomResource(p.Construct, jsii.String("Accept"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::ObslinkTgwPeeringAccept"),
		Properties: &map[string]any{
			"AttachmentId":   p.att.AttrTransitGatewayAttachmentId(),
			"AccepterRegion": region,
		},
	})
	// Association and routes fail with IncorrectState until the attachment is available.
	assoc := awsec2.NewCfnTransitGatewayRouteTableAssociation(p.Construct, jsii.String("Association"), &awsec2.CfnTransitGatewayRouteTableAssociationProps{
		TransitGatewayAttachmentId: p.att.AttrTransitGatewayAttachmentId(),
		TransitGatewayRouteTableId: props.Local.RouteTableID(),
	})
	assoc.Node().AddDependency(p.accept)
	for i, cidr := range remote {
		r := awsec2.NewCfnTransitGatewayRoute(p.Construct, jsii.String("Route-"+cidrID(i, cidr)), &awsec2.CfnTransitGatewayRouteProps{
			TransitGatewayRouteTableId: props.Local.RouteTableID(),
			TransitGatewayAttachmentId: p.att.AttrTransitGatewayAttachmentId(),
			DestinationCidrBlock:       jsii.String(cidr),
		})
		r.Node().AddDependency(p.accept)
	}
	return p
}

// AttachmentID is the peering attachment's id, the same in both regions.
func (p *Peering) AttachmentID() *string { return p.att.AttrTransitGatewayAttachmentId() }

// Accepted is the custom resource that completes when the attachment is available.
func (p *Peering) Accepted() awscdk.CustomResource { return p.accept }

// acceptFunction is the Lambda that accepts the attachment in the accepter
// region; its code is assets/tgw/accept_peering.py, inline.
func acceptFunction(scope constructs.Construct, region, account string, attachmentID *string) awslambda.Function {
	fn := inline.PythonFunction(scope, "Accept", "tgw/accept_peering.py",
		"obslink: accepts the Transit Gateway peering in "+region+" and waits until it is available", awscdk.Duration_Minutes(jsii.Number(15)))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ec2:AcceptTransitGatewayPeeringAttachment"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", *awscdk.Aws_PARTITION(), ":ec2:"+region+":"+account+":transit-gateway-attachment/", *attachmentID))),
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeTransitGatewayPeeringAttachments"),
		Resources: jsii.Strings("*"),
	}))
	nag.Suppress(fn, "AwsSolutions-IAM5",
		"ec2:DescribeTransitGatewayPeeringAttachments supports no resource-level permissions; the only write, ec2:AcceptTransitGatewayPeeringAttachment, is limited to this one attachment.",
		"Resource::*")
	return fn
}

// PeerRoutesProps configures PeerRoutes.
type PeerRoutesProps struct {
	// RouteTableID is the hub gateway's route table. Required.
	RouteTableID *string
	// AttachmentID is the peering attachment (from the spoke's stack). Required.
	AttachmentID *string
	// Cidrs are routed through the peering. Required.
	Cidrs *[]*string
}

// NewPeerRoutes associates a peering attachment with the hub's route table
// and routes the spoke's CIDRs through it: the hub side of a Peering, in the
// hub's region, deployed after the spoke's stack. It panics on props that
// cannot describe them, naming the fields.
func NewPeerRoutes(scope constructs.Construct, id *string, props *PeerRoutesProps) constructs.Construct {
	chk := check.New("tgwmesh.NewPeerRoutes", scope, id)
	var list []string
	if props == nil {
		chk.Add("props", "is nil; pass &tgwmesh.PeerRoutesProps{RouteTableID: ..., AttachmentID: ..., Cidrs: ...}")
	} else {
		required(chk, "props.RouteTableID", props.RouteTableID, "the hub gateway's route table")
		required(chk, "props.AttachmentID", props.AttachmentID, "the peering attachment's id (Peering.AttachmentID())")
		list = cidrs(chk, "props.Cidrs", props.Cidrs)
	}
	chk.Panic()
	c := constructs.NewConstruct(scope, id)
	awsec2.NewCfnTransitGatewayRouteTableAssociation(c, jsii.String("Association"), &awsec2.CfnTransitGatewayRouteTableAssociationProps{
		TransitGatewayAttachmentId: props.AttachmentID,
		TransitGatewayRouteTableId: props.RouteTableID,
	})
	for i, cidr := range list {
		awsec2.NewCfnTransitGatewayRoute(c, jsii.String("Route-"+cidrID(i, cidr)), &awsec2.CfnTransitGatewayRouteProps{
			TransitGatewayRouteTableId: props.RouteTableID,
			TransitGatewayAttachmentId: props.AttachmentID,
			DestinationCidrBlock:       jsii.String(cidr),
		})
	}
	return c
}

// required records a mistake when v is nil or empty; what says what to give.
func required(chk *check.Props, field string, v *string, what string) bool {
	if v == nil || *v == "" {
		chk.Add(field, "is empty; give %s", what)
		return false
	}
	return true
}

// cidrs is the CIDRs of p, recording a mistake for an empty list or a
// malformed CIDR in it.
func cidrs(chk *check.Props, field string, p *[]*string) []string {
	list := chk.Strings(field, p)
	if len(list) == 0 {
		chk.Add(field, "is empty; give at least one CIDR")
	}
	for i, c := range list {
		if (*p)[i] != nil {
			chk.CIDR(fmt.Sprintf("%s[%d]", field, i), c)
		}
	}
	return list
}

// cidrID is the construct id part of the i-th CIDR of a list: a literal
// CIDR with '/' made '-' (ids of deployed routes), a token (known only at
// deploy, so it cannot name anything) its position.
func cidrID(i int, cidr string) string {
	if check.IsToken(cidr) {
		return fmt.Sprint(i)
	}
	return strings.ReplaceAll(cidr, "/", "-")
}
