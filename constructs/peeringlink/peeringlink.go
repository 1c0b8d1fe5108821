// Package peeringlink provides PeeringLink: a VPC peering connection from a
// provider VPC to the cluster's VPC (in the same or another region and
// account), with routes on the provider side limited to the cluster's CIDR,
// and Routes for the other side, limited to the provider's CIDR.
package peeringlink

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/netutil"
)

// Props configures a PeeringLink.
type Props struct {
	// Vpc is the requester (provider) VPC; routes to PeerCidr are added to the
	// route tables of its private subnets. Required.
	Vpc awsec2.IVpc
	// PeerVpcID is the accepter (cluster) VPC. Required.
	PeerVpcID string
	// PeerCidr is the accepter VPC's CIDR, the only destination routed. Required.
	PeerCidr string
	// PeerRegion is the accepter's region. Default: the requester's region.
	PeerRegion string
	// PeerAccount is the accepter's account. Default: the requester's account.
	PeerAccount string
	// PeerRoleArn is a role in PeerAccount that may accept the peering
	// (ec2:AcceptVpcPeeringConnection). Required when PeerAccount differs from
	// the requester's account, ignored otherwise. Default: none.
	PeerRoleArn string
}

// PeeringLink is the peering connection and the requester-side routes.
type PeeringLink struct {
	constructs.Construct
	conn awsec2.CfnVPCPeeringConnection
}

// New creates the peering connection. It panics on props that cannot describe one.
func New(scope constructs.Construct, id string, props *Props) *PeeringLink {
	if err := props.check(scope); err != nil {
		panic(fmt.Sprintf("peeringlink.New(%q): %v", id, err))
	}
	l := &PeeringLink{}
	constructs.NewConstruct_Override(l, scope, jsii.String(id))
	cp := &awsec2.CfnVPCPeeringConnectionProps{
		VpcId:     props.Vpc.VpcId(),
		PeerVpcId: jsii.String(props.PeerVpcID),
		Tags:      &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String("obslink " + props.PeerVpcID)}},
	}
	if props.PeerRegion != "" {
		cp.PeerRegion = jsii.String(props.PeerRegion)
	}
	if props.PeerAccount != "" {
		cp.PeerOwnerId = jsii.String(props.PeerAccount)
		if props.PeerAccount != *awscdk.Stack_Of(scope).Account() {
			cp.PeerRoleArn = jsii.String(props.PeerRoleArn)
		}
	}
	l.conn = awsec2.NewCfnVPCPeeringConnection(l.Construct, jsii.String("Resource"), cp)
	NewRoutes(l.Construct, "Routes", &RoutesProps{
		RouteTableIDs:       netutil.RouteTableIDs(props.Vpc),
		DestinationCidr:     props.PeerCidr,
		PeeringConnectionID: l.ConnectionID(),
	})
	return l
}

func (p *Props) check(scope constructs.Construct) error {
	switch {
	case p == nil:
		return fmt.Errorf("props are nil")
	case p.Vpc == nil || p.PeerVpcID == "" || p.PeerCidr == "":
		return fmt.Errorf("props.Vpc, PeerVpcID and PeerCidr are required")
	case p.PeerAccount != "" && p.PeerAccount != *awscdk.Stack_Of(scope).Account() && p.PeerRoleArn == "":
		return fmt.Errorf("peer account %s differs from the stack's: give props.PeerRoleArn, a role there allowed ec2:AcceptVpcPeeringConnection", p.PeerAccount)
	}
	return nil
}

// ConnectionID is the peering connection's id (pcx-...).
func (l *PeeringLink) ConnectionID() *string { return l.conn.Ref() }

// RoutesProps configures Routes.
type RoutesProps struct {
	// RouteTableIDs get one route each. Required.
	RouteTableIDs []*string
	// DestinationCidr is the only destination routed. Required.
	DestinationCidr string
	// PeeringConnectionID is the target. Required.
	PeeringConnectionID *string
}

// NewRoutes adds a route to DestinationCidr through the peering connection in
// each route table: the accepter side of a PeeringLink, in the accepter's stack.
func NewRoutes(scope constructs.Construct, id string, props *RoutesProps) constructs.Construct {
	c := constructs.NewConstruct(scope, jsii.String(id))
	for i, rt := range props.RouteTableIDs {
		// A literal route table id names its route, so reordering the list
		// replaces nothing; tokens (tables created here) keep their position.
		rid := fmt.Sprintf("Route%d", i)
		if !*awscdk.Token_IsUnresolved(rt) {
			rid = "Route-" + *rt
		}
		awsec2.NewCfnRoute(c, jsii.String(rid), &awsec2.CfnRouteProps{
			RouteTableId:           rt,
			DestinationCidrBlock:   jsii.String(props.DestinationCidr),
			VpcPeeringConnectionId: props.PeeringConnectionID,
		})
	}
	return c
}
