// Package consumervpc provides ConsumerVpc: the agent side of obslink. In one
// VPC it creates an interface endpoint to a region's obslink endpoint service,
// a security group that admits only the agents' CIDRs on the service ports, and
// a private hosted zone whose service names (metrics.observability.internal,
// ...) are aliases of the endpoint, so every agent everywhere uses one name.
//
// Traffic is one-way: the endpoint only accepts connections from the VPC, and
// nothing in the provider can open a connection into it.
package consumervpc

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/netutil"
)

// Service is one name agents resolve in the private zone, and its port.
type Service struct {
	// Name is the record name inside Domain, e.g. metrics. Required.
	Name *string
	// Port is the TCP port agents connect to. Required.
	Port *float64
}

// service is a Service's values.
type service struct {
	Name string
	Port int
}

// Props configures a ConsumerVpc.
type Props struct {
	// Vpc is an existing VPC to put the endpoint in.
	// Default: a new VPC with one isolated subnet per zone, from Cidr and AvailabilityZones.
	Vpc awsec2.IVpc
	// Cidr of the VPC to create. Required when Vpc is nil.
	Cidr *string
	// AvailabilityZones of the VPC to create. Required when Vpc is nil.
	AvailabilityZones *[]*string
	// ServiceName is the endpoint service's name, com.amazonaws.vpce.<region>.vpce-svc-...
	// (usually a token from the provider's stack). Required.
	ServiceName *string
	// ServiceRegion is the provider's region when it differs from the VPC's
	// (native cross-region PrivateLink). Default: the endpoint service is in the VPC's region.
	ServiceRegion *string
	// Domain is the private zone's name. Required, e.g. observability.internal.
	Domain *string
	// Services are the names and ports agents use. Required: at least one.
	Services *[]*Service
	// AllowedCidrs may connect to the endpoint on the service ports.
	// Default: the VPC's CIDR.
	AllowedCidrs *[]*string
	// AssociatedVpcs are further VPCs of the same account and region that share the zone.
	// Default: none.
	AssociatedVpcs *[]awsec2.IVpc
}

// settings are Props' values.
type settings struct {
	Cidr, ServiceRegion, Domain     string
	AvailabilityZones, AllowedCidrs []string
	Services                        []service
	AssociatedVpcs                  []awsec2.IVpc
}

// ConsumerVpc is the endpoint, security group and private zone in one consumer VPC.
type ConsumerVpc struct {
	constructs.Construct
	vpc      awsec2.IVpc
	endpoint awsec2.InterfaceVpcEndpoint
	zone     awsroute53.PrivateHostedZone
	sg       awsec2.SecurityGroup
}

var _ awsec2.IConnectable = (*ConsumerVpc)(nil)

// New creates a ConsumerVpc. It panics on props that cannot describe a
// consumer (no service name, no services, no VPC and no CIDR, a malformed
// CIDR), with every mistake, the construct's path and the field.
func New(scope constructs.Construct, id *string, props *Props) *ConsumerVpc {
	chk := check.New("consumervpc.New", scope, id)
	set := props.check(chk)
	chk.Panic()
	c := &ConsumerVpc{}
	constructs.NewConstruct_Override(c, scope, id)
	c.vpc = props.Vpc
	var subnets *[]awsec2.ISubnet
	allowed := set.AllowedCidrs
	if c.vpc == nil {
		vpc := netutil.IsolatedVpc(c.Construct, "Vpc", set.Cidr, set.AvailabilityZones, "agents")
		// Its only subnets, which its default selection picks: read as one
		// property rather than a selection (a round trip to jsii per field).
		c.vpc, subnets = vpc, vpc.IsolatedSubnets()
		if len(allowed) == 0 {
			allowed = []string{set.Cidr} // the VPC's CIDR, known without asking jsii
		}
	} else {
		subnets = c.vpc.SelectSubnets(nil).Subnets
	}
	if len(allowed) == 0 {
		allowed = []string{*c.vpc.VpcCidrBlock()}
	}

	c.sg = awsec2.NewSecurityGroup(c.Construct, jsii.String("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              c.vpc,
		Description:      jsii.String("obslink endpoint: agents in the allowed CIDRs to the service ports only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// One peer per CIDR and one port per port, whatever the rules that use
	// them: each is a round trip to jsii.
	peers := map[string]awsec2.IPeer{}
	for _, port := range ports(set.Services) {
		tcp := awsec2.Port_Tcp(jsii.Number(float64(port)))
		for _, cidr := range allowed {
			if peers[cidr] == nil {
				peers[cidr] = awsec2.Peer_Ipv4(jsii.String(cidr))
			}
			c.sg.AddIngressRule(peers[cidr], tcp, jsii.String(fmt.Sprintf("agents in %s to obslink port %d", cidr, port)), jsii.Bool(false))
		}
	}

	var serviceRegion *string
	if set.ServiceRegion != "" {
		serviceRegion = jsii.String(set.ServiceRegion)
	}
	c.endpoint = awsec2.NewInterfaceVpcEndpoint(c.Construct, jsii.String("Endpoint"), &awsec2.InterfaceVpcEndpointProps{
		Vpc:               c.vpc,
		Service:           awsec2.NewInterfaceVpcEndpointService(props.ServiceName, nil),
		PrivateDnsEnabled: jsii.Bool(false),
		Open:              jsii.Bool(false),
		SecurityGroups:    &[]awsec2.ISecurityGroup{c.sg},
		Subnets:           &awsec2.SubnetSelection{Subnets: subnets},
		ServiceRegion:     serviceRegion,
	})

	c.zone = awsroute53.NewPrivateHostedZone(c.Construct, jsii.String("Zone"), &awsroute53.PrivateHostedZoneProps{
		ZoneName: jsii.String(set.Domain),
		Vpc:      c.vpc,
		Comment:  jsii.String("obslink: service names of the observability cluster, resolved to the endpoint"),
	})
	for _, v := range set.AssociatedVpcs {
		c.zone.AddVpc(v)
	}
	target := awsroute53.RecordTarget_FromAlias(awsroute53targets.NewInterfaceVpcEndpointTarget(c.endpoint))
	for _, s := range set.Services {
		awsroute53.NewARecord(c.Construct, jsii.String("Record"+netutil.IDPart(s.Name)), &awsroute53.ARecordProps{
			Zone:       c.zone,
			RecordName: jsii.String(s.Name + "." + set.Domain + "."),
			Target:     target,
		})
	}
	return c
}

// check returns p's values, recording in chk what cannot describe a consumer.
func (p *Props) check(chk *check.Props) settings {
	if p == nil {
		chk.Add("props", "is nil; pass &consumervpc.Props{Vpc: ..., ServiceName: ..., Domain: ..., Services: ...}")
		return settings{}
	}
	s := settings{
		Cidr: check.Str(p.Cidr), ServiceRegion: check.Str(p.ServiceRegion), Domain: check.Str(p.Domain),
		AvailabilityZones: chk.Strings("props.AvailabilityZones", p.AvailabilityZones),
		AllowedCidrs:      chk.Strings("props.AllowedCidrs", p.AllowedCidrs),
	}
	if p.AssociatedVpcs != nil {
		for i, v := range *p.AssociatedVpcs {
			if v == nil {
				chk.Add(fmt.Sprintf("props.AssociatedVpcs[%d]", i), "is nil; give the VPC or leave the element out")
				continue
			}
			s.AssociatedVpcs = append(s.AssociatedVpcs, v)
		}
	}
	if p.ServiceName == nil || *p.ServiceName == "" {
		chk.Add("props.ServiceName", "is empty; pass the provider's endpoint service name (com.amazonaws.vpce.<region>.vpce-svc-...)")
	} else if n := *p.ServiceName; !check.IsToken(n) && !reServiceName.MatchString(n) {
		chk.Add("props.ServiceName", "%q is not an endpoint service name; it looks like com.amazonaws.vpce.<region>.vpce-svc-0123456789abcdef0", n)
	}
	if s.Domain == "" {
		chk.Add("props.Domain", "is empty; give the private zone name, such as observability.internal")
	}
	if p.Services == nil || len(*p.Services) == 0 {
		chk.Add("props.Services", "is empty; give at least one service name and port")
	}
	names := map[string]bool{}
	for i, sp := range check.List(chk, "props.Services", p.Services) {
		if sp == nil {
			continue
		}
		field := fmt.Sprintf("props.Services[%d]", i)
		svc := service{Name: check.Str(sp.Name), Port: chk.Int(field+".Port", sp.Port, 0)}
		switch {
		case !chk.Literal(field+".Name", svc.Name, "it names the record's construct id; give the literal name"):
		case !reLabel.MatchString(svc.Name):
			chk.Add(field+".Name", "%q is not a DNS label (lower-case letters, digits, hyphens), such as metrics", svc.Name)
		case names[svc.Name]:
			chk.Add(field+".Name", "%q is listed twice; give each service one entry", svc.Name)
		}
		names[svc.Name] = true
		chk.Port(field+".Port", svc.Port)
		s.Services = append(s.Services, svc)
	}
	if p.Vpc == nil {
		if s.Cidr == "" || len(s.AvailabilityZones) == 0 {
			chk.Add("props.Vpc", "is nil; give your VPC, or Cidr and AvailabilityZones for a new one")
		} else if chk.Literal("props.Cidr", s.Cidr, "it sizes the new VPC's subnets; give a literal CIDR, or your VPC as Vpc") {
			if _, err := netutil.SubnetMask(s.Cidr, len(s.AvailabilityZones)); err != nil {
				chk.Add("props.Cidr", "%v", err)
			}
		}
	}
	for i, c := range s.AllowedCidrs {
		chk.CIDR(fmt.Sprintf("props.AllowedCidrs[%d]", i), c)
	}
	return s
}

var (
	reServiceName = regexp.MustCompile(`^com\.amazonaws\.vpce\.[a-z0-9-]+\.vpce-svc-[0-9a-f]+$`)
	reLabel       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// Vpc is the consumer VPC.
func (c *ConsumerVpc) Vpc() awsec2.IVpc { return c.vpc }

// Endpoint is the interface endpoint to the provider's service.
func (c *ConsumerVpc) Endpoint() awsec2.InterfaceVpcEndpoint { return c.endpoint }

// Zone is the private hosted zone of the service names.
func (c *ConsumerVpc) Zone() awsroute53.PrivateHostedZone { return c.zone }

// Connections lets callers admit more sources to the endpoint.
func (c *ConsumerVpc) Connections() awsec2.Connections { return c.sg.Connections() }

// ports returns the distinct service ports, sorted.
func ports(services []service) []int {
	all := make([]int, len(services))
	for i, s := range services {
		all[i] = s.Port
	}
	return netutil.Ports(all)
}
