// Package peeringlink provides PeeringLink: a VPC peering connection from a
// provider VPC to the cluster's VPC (in the same or another region and
// account), with routes on the provider side limited to the cluster's CIDR,
// and Routes for the other side, limited to the provider's CIDR.
package peeringlink

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/netutil"
)

// Props configures a PeeringLink.
type Props struct {
	// Vpc is the requester (provider) VPC; routes to PeerCidr are added to the
	// route tables of its private subnets. Required.
	Vpc awsec2.IVpc
	// PeerVpcID is the accepter (cluster) VPC. Required.
	PeerVpcID *string
	// PeerCidr is the accepter VPC's CIDR, the only destination routed. Required.
	PeerCidr *string
	// PeerRegion is the accepter's region. Default: the requester's region.
	PeerRegion *string
	// PeerAccount is the accepter's account. Default: the requester's account.
	PeerAccount *string
	// PeerRoleArn is a role in PeerAccount that may accept the peering
	// (ec2:AcceptVpcPeeringConnection). Required when PeerAccount is not
	// known to be the requester's account (it differs, or either is a
	// token), ignored otherwise. Default: none.
	PeerRoleArn *string
}

// settings are Props' values.
type settings struct {
	PeerVpcID, PeerCidr, PeerRegion, PeerAccount, PeerRoleArn string
}

// PeeringLink is the peering connection and the requester-side routes.
type PeeringLink struct {
	constructs.Construct
	conn awsec2.CfnVPCPeeringConnection
}

// New creates the peering connection. It panics on props that cannot
// describe one, with every mistake, the construct's path and the field.
func New(scope constructs.Construct, id *string, props *Props) *PeeringLink {
	chk := check.New("peeringlink.New", scope, id)
	set := props.check(chk, scope)
	chk.Panic()
	l := &PeeringLink{}
	constructs.NewConstruct_Override(l, scope, id)
	cp := &awsec2.CfnVPCPeeringConnectionProps{
		VpcId:     props.Vpc.VpcId(),
		PeerVpcId: jsii.String(set.PeerVpcID),
		Tags:      &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String("obslink " + set.PeerVpcID)}},
	}
	if set.PeerRegion != "" {
		cp.PeerRegion = jsii.String(set.PeerRegion)
	}
	if set.PeerAccount != "" {
		cp.PeerOwnerId = jsii.String(set.PeerAccount)
		if !sameAccount(scope, set.PeerAccount) && set.PeerRoleArn != "" {
			cp.PeerRoleArn = jsii.String(set.PeerRoleArn)
		}
	}
	l.conn = awsec2.NewCfnVPCPeeringConnection(l.Construct, jsii.String("Resource"), cp)
	rts := netutil.RouteTableIDs(props.Vpc)
	NewRoutes(l.Construct, jsii.String("Routes"), &RoutesProps{
		RouteTableIDs:       &rts,
		DestinationCidr:     props.PeerCidr,
		PeeringConnectionID: l.ConnectionID(),
	})
	return l
}

// sameAccount reports whether account is known to be the account of
// scope's stack; a token on either side is not known to be.
func sameAccount(scope constructs.Construct, account string) bool {
	stack := *awscdk.Stack_Of(scope).Account()
	return !check.IsToken(stack) && !check.IsToken(account) && stack == account
}

var reVpcID = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)

// check returns p's values, recording in chk what cannot describe a peering.
func (p *Props) check(chk *check.Props, scope constructs.Construct) settings {
	if p == nil {
		chk.Add("props", "is nil; pass &peeringlink.Props{Vpc: ..., PeerVpcID: ..., PeerCidr: ...}")
		return settings{}
	}
	s := settings{PeerVpcID: check.Str(p.PeerVpcID), PeerCidr: check.Str(p.PeerCidr), PeerRegion: check.Str(p.PeerRegion),
		PeerAccount: check.Str(p.PeerAccount), PeerRoleArn: check.Str(p.PeerRoleArn)}
	if p.Vpc == nil {
		chk.Add("props.Vpc", "is nil; give the requester (provider) VPC")
	}
	if s.PeerVpcID == "" {
		chk.Add("props.PeerVpcID", "is empty; give the accepter (cluster) VPC's id, vpc-...")
	} else if !check.IsToken(s.PeerVpcID) && !reVpcID.MatchString(s.PeerVpcID) {
		chk.Add("props.PeerVpcID", "%q is not a VPC id (vpc-0123456789abcdef0)", s.PeerVpcID)
	}
	chk.CIDR("props.PeerCidr", s.PeerCidr)
	if s.PeerAccount != "" {
		chk.Account("props.PeerAccount", s.PeerAccount, "the accepter's account")
	}
	if scope != nil && s.PeerAccount != "" && !sameAccount(scope, s.PeerAccount) && s.PeerRoleArn == "" {
		chk.Add("props.PeerRoleArn", "is empty, but peer account %s is not known to be the stack's: give a role there allowed ec2:AcceptVpcPeeringConnection", s.PeerAccount)
	}
	return s
}

// ConnectionID is the peering connection's id (pcx-...).
func (l *PeeringLink) ConnectionID() *string { return l.conn.Ref() }

// RoutesProps configures Routes.
type RoutesProps struct {
	// RouteTableIDs get one route each. Required.
	RouteTableIDs *[]*string
	// DestinationCidr is the only destination routed. Required.
	DestinationCidr *string
	// PeeringConnectionID is the target. Required.
	PeeringConnectionID *string
}

// NewRoutes adds a route to DestinationCidr through the peering connection in
// each route table: the accepter side of a PeeringLink, in the accepter's stack.
// It panics on props that cannot describe the routes, naming the field.
func NewRoutes(scope constructs.Construct, id *string, props *RoutesProps) constructs.Construct {
	chk := check.New("peeringlink.NewRoutes", scope, id)
	var tables []string
	if props == nil {
		chk.Add("props", "is nil; pass &peeringlink.RoutesProps{RouteTableIDs: ..., DestinationCidr: ..., PeeringConnectionID: ...}")
	} else {
		if tables = chk.Strings("props.RouteTableIDs", props.RouteTableIDs); len(tables) == 0 {
			chk.Add("props.RouteTableIDs", "is empty; give the route tables to route through the peering")
		}
		chk.CIDR("props.DestinationCidr", check.Str(props.DestinationCidr))
		if check.Str(props.PeeringConnectionID) == "" {
			chk.Add("props.PeeringConnectionID", "is empty; give the peering connection's id (PeeringLink.ConnectionID())")
		}
	}
	chk.Panic()
	c := constructs.NewConstruct(scope, id)
	for i, rt := range tables {
		// A literal route table id names its route, so reordering the list
		// replaces nothing; tokens (tables created here) keep their position.
		rid := fmt.Sprintf("Route%d", i)
		if !check.IsToken(rt) {
			rid = "Route-" + rt
		}
		awsec2.NewCfnRoute(c, jsii.String(rid), &awsec2.CfnRouteProps{
			RouteTableId:           jsii.String(rt),
			DestinationCidrBlock:   props.DestinationCidr,
			VpcPeeringConnectionId: props.PeeringConnectionID,
		})
	}
	return c
}
