// Package proxyless provides AlbEndpointService: obslink without proxies. A
// Network Load Balancer in the cluster VPC forwards each service's port
// straight to that service's Application Load Balancer (an ALB-type target
// group on the ALB listener's port) and is published as a VPC endpoint
// service, which consumers in every region reach over cross-region
// PrivateLink. No instances to patch, one hop less; the price is that an
// NLB routes by port only, so every service needs a port of its own, and
// the ALBs see no consumer attribution (an ALB target takes no proxy
// protocol header).
package proxyless

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/endpointservice"
	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/internal/netutil"
)

// Service is one of the cluster's services as the NLB forwards it.
type Service struct {
	// Name of the service (a DNS label): construct ids and descriptions. Required.
	Name *string
	// Port agents connect to: the NLB listener's port. Required, unique per service.
	Port *float64
	// AlbArn is the service's Application Load Balancer, in Props.Vpc and
	// this stack's account (a literal or a token). Default: Alb's ARN; one
	// of the two is required.
	AlbArn *string
	// Alb is the service's Application Load Balancer: it gives AlbArn, and
	// the NLB's access to it on AlbPort is opened through its security
	// groups (Connections). Default: none.
	Alb awselasticloadbalancingv2.IApplicationLoadBalancer
	// AlbPort is the port of the ALB's listener that serves the service: the
	// target group's port, as AWS requires for an ALB target. Default: Port.
	AlbPort *float64
	// TLS reports that the ALB listener is HTTPS (agents speak TLS to the
	// ALB through the NLB, which never terminates it): the NLB's health
	// checks then use HTTPS. Default: false (HTTP).
	TLS *bool
	// HealthCheckPath is what the NLB's health checks ask the ALB for; the
	// ALB must answer it with 200-399 (a fixed-response rule does; AWS does
	// not let an ALB target group change its success codes). Default: "/".
	HealthCheckPath *string
}

// service is a Service's values, defaults applied.
type service struct {
	Name, AlbArn, HealthCheckPath string
	Port, AlbPort                 int
	Alb                           awselasticloadbalancingv2.IApplicationLoadBalancer
	TLS                           bool
}

// Props configures an AlbEndpointService.
type Props struct {
	// Vpc is the ALBs' VPC (an NLB can target an ALB only in its own VPC and
	// account). Required.
	Vpc awsec2.IVpc
	// Subnets hold the NLB, one per zone of the ALBs. Default: the VPC's
	// private subnets.
	Subnets *awsec2.SubnetSelection
	// Services are forwarded one NLB listener each. Required: at least one.
	Services *[]*Service
	// AlbSecurityGroups are the ALBs' security groups: each gets ingress
	// from the NLB's security group on every ALB port, through Connections.
	// Default: none.
	AlbSecurityGroups *[]awsec2.ISecurityGroup
	// AlbSecurityGroupIDs are the ALBs' security groups by id (sg-...,
	// literals: each id names its rules' construct ids, as in the stacks
	// deployed before AlbSecurityGroups existed); each gets ingress from
	// the NLB's security group on every ALB port. Default: none. With
	// neither, services without an Alb get egress to the VPC's CIDR, and
	// you open their ALBs to the NLB's security group (Connections()).
	AlbSecurityGroupIDs *[]*string
	// AllowedAccounts are the 12-digit account ids that may create endpoints
	// to the service. Default: none (nobody can connect).
	AllowedAccounts *[]*string
	// SupportedRegions are the other regions consumers connect from
	// (cross-region PrivateLink). Default: only this region.
	SupportedRegions *[]*string
	// Admission requires acceptance and admits by account and organizational
	// unit (see endpointservice.Admission). Default: nil (the allowed accounts,
	// no acceptance step).
	Admission *Admission
}

// Admission is how the service admits accounts (see endpointservice.Admission).
type Admission = endpointservice.Admission

// AlbEndpointService is the NLB, its ALB target groups and the endpoint
// service in front of the cluster's ALBs.
type AlbEndpointService struct {
	constructs.Construct
	nlb          awselasticloadbalancingv2.NetworkLoadBalancer
	sg           awsec2.SecurityGroup
	pub          *endpointservice.Service
	ports        []int
	targetGroups []awselasticloadbalancingv2.NetworkTargetGroup
}

var _ awsec2.IConnectable = (*AlbEndpointService)(nil)

// New creates an AlbEndpointService. It panics on props that cannot
// describe one (programmer misuse, like the CDK's own constructors;
// obslink's topology validation names the file and line first).
func New(scope constructs.Construct, id *string, props *Props) *AlbEndpointService {
	chk := check.New("proxyless.New", scope, id)
	services, groupIDs := props.check(chk)
	chk.Panic()
	s := &AlbEndpointService{}
	constructs.NewConstruct_Override(s, scope, id)
	var groups []awsec2.ISecurityGroup
	if props.AlbSecurityGroups != nil {
		groups = *props.AlbSecurityGroups
	}

	// PrivateLink traffic is gated by the allowed principals and the
	// consumers' endpoint security groups, so the NLB does not apply its
	// inbound rules to it (with a security group, an NLB by default drops
	// PrivateLink traffic its rules do not allow: aws-cdk#29516) and the
	// group has no inbound rule: nothing in the cluster VPC can reach the
	// NLB. Out: to the ALBs' listener ports only. The group is what the ALBs'
	// security groups let in.
	s.sg = awsec2.NewSecurityGroup(s.Construct, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("obslink NLB: PrivateLink traffic only, out to the ALBs only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	netutil.PinNoEgress(s.sg)
	s.nlb = awselasticloadbalancingv2.NewNetworkLoadBalancer(s.Construct, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{
		Vpc:            props.Vpc,
		InternetFacing: jsii.Bool(false),
		// An ALB target's nodes may sit in other zones than the NLB's.
		CrossZoneEnabled: jsii.Bool(true),
		VpcSubnets:       props.Subnets,
		SecurityGroups:   &[]awsec2.ISecurityGroup{s.sg},
		EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: jsii.Bool(false),
	})
	nag.Suppress(s.nlb, "AwsSolutions-ELB2",
		"NLB access logs only record TLS listeners; these listeners are TCP, so there is nothing to log. The ALBs log every request.")

	for _, svc := range services {
		l := s.nlb.AddListener(jsii.String(fmt.Sprintf("Port%d", svc.Port)), &awselasticloadbalancingv2.BaseNetworkListenerProps{
			Port:     jsii.Number(float64(svc.Port)),
			Protocol: awselasticloadbalancingv2.Protocol_TCP,
		})
		hc := awselasticloadbalancingv2.Protocol_HTTP
		if svc.TLS {
			hc = awselasticloadbalancingv2.Protocol_HTTPS
		}
		tg := l.AddTargets(jsii.String("Alb"), &awselasticloadbalancingv2.AddNetworkTargetsProps{
			// An ALB target: TCP, on the ALB listener's port.
			Port:     jsii.Number(float64(svc.AlbPort)),
			Protocol: awselasticloadbalancingv2.Protocol_TCP,
			Targets: &[]awselasticloadbalancingv2.INetworkLoadBalancerTarget{
				awselasticloadbalancingv2targets.NewAlbArnTarget(jsii.String(svc.AlbArn), jsii.Number(float64(svc.AlbPort))),
			},
			HealthCheck: &awselasticloadbalancingv2.HealthCheck{
				Protocol:              hc,
				Path:                  jsii.String(svc.HealthCheckPath),
				Port:                  jsii.String("traffic-port"),
				Interval:              awscdk.Duration_Seconds(jsii.Number(10)),
				HealthyThresholdCount: jsii.Number(2),
				// Success codes, unhealthy threshold and timeout are AWS's
				// for an ALB target: not set.
			},
		})
		s.ports = append(s.ports, svc.Port)
		s.targetGroups = append(s.targetGroups, tg)
	}

	for _, port := range albPorts(services) {
		desc := jsii.String(fmt.Sprintf("to the ALBs on %d", port))
		if len(groupIDs) == 0 && len(groups) == 0 && !allHaveAlb(services) {
			// Standalone, like the rules below: the pinned placeholder
			// replaces the group's inline rules.
			awsec2.NewCfnSecurityGroupEgress(s.Construct, jsii.String(fmt.Sprintf("ToVpc-%d", port)), &awsec2.CfnSecurityGroupEgressProps{
				GroupId:     s.sg.SecurityGroupId(),
				IpProtocol:  jsii.String("tcp"),
				FromPort:    jsii.Number(float64(port)),
				ToPort:      jsii.Number(float64(port)),
				CidrIp:      props.Vpc.VpcCidrBlock(),
				Description: desc,
			})
		}
		for _, group := range groupIDs {
			awsec2.NewCfnSecurityGroupEgress(s.Construct, jsii.String(fmt.Sprintf("ToAlb-%s-%d", group, port)), &awsec2.CfnSecurityGroupEgressProps{
				GroupId:                    s.sg.SecurityGroupId(),
				IpProtocol:                 jsii.String("tcp"),
				FromPort:                   jsii.Number(float64(port)),
				ToPort:                     jsii.Number(float64(port)),
				DestinationSecurityGroupId: jsii.String(group),
				Description:                desc,
			})
			awsec2.NewCfnSecurityGroupIngress(s.Construct, jsii.String(fmt.Sprintf("AlbIngress-%s-%d", group, port)), &awsec2.CfnSecurityGroupIngressProps{
				GroupId:               jsii.String(group),
				IpProtocol:            jsii.String("tcp"),
				FromPort:              jsii.Number(float64(port)),
				ToPort:                jsii.Number(float64(port)),
				SourceSecurityGroupId: s.sg.SecurityGroupId(),
				Description:           jsii.String(fmt.Sprintf("obslink endpoint service NLB on %d", port)),
			})
		}
	}

	for _, svc := range services {
		if svc.Alb != nil {
			s.sg.Connections().AllowTo(svc.Alb, awsec2.Port_Tcp(jsii.Number(float64(svc.AlbPort))),
				jsii.String(fmt.Sprintf("obslink endpoint service NLB to the %s ALB on %d", svc.Name, svc.AlbPort)))
		}
	}
	for _, group := range groups {
		for _, port := range albPorts(services) {
			s.sg.Connections().AllowTo(group, awsec2.Port_Tcp(jsii.Number(float64(port))),
				jsii.String(fmt.Sprintf("obslink endpoint service NLB on %d", port)))
		}
	}

	s.pub = endpointservice.Publish(s.Construct, s.nlb, &endpointservice.Props{
		AllowedAccounts: props.AllowedAccounts, SupportedRegions: props.SupportedRegions, Admission: props.Admission,
	})
	return s
}

// check returns the services with defaults applied, sorted by port, and
// the ALBs' security group ids, recording in chk what cannot describe the
// service.
func (p *Props) check(chk *check.Props) ([]service, []string) {
	if p == nil {
		chk.Add("props", "is nil; pass &proxyless.Props{Vpc: ..., Services: ...}")
		return nil, nil
	}
	if p.Vpc == nil {
		chk.Add("props.Vpc", "is nil; give the ALBs' VPC")
	}
	if p.Services == nil || len(*p.Services) == 0 {
		chk.Add("props.Services", "is empty; give at least one service")
	}
	groupIDs := chk.Strings("props.AlbSecurityGroupIDs", p.AlbSecurityGroupIDs)
	for i, g := range groupIDs {
		chk.Literal(fmt.Sprintf("props.AlbSecurityGroupIDs[%d]", i), g,
			"the id names its rules' construct ids; pass the group as AlbSecurityGroups (awsec2.ISecurityGroup) instead")
	}
	if p.AlbSecurityGroups != nil {
		for i, g := range *p.AlbSecurityGroups {
			if g == nil {
				chk.Add(fmt.Sprintf("props.AlbSecurityGroups[%d]", i), "is nil; give the ALB's security group or leave the element out")
			}
		}
	}
	for i, a := range chk.Strings("props.AllowedAccounts", p.AllowedAccounts) {
		chk.Account(fmt.Sprintf("props.AllowedAccounts[%d]", i), a, "the consumer's account")
	}
	var out []service
	ports, names := map[int]string{}, map[string]bool{}
	for i, sp := range check.List(chk, "props.Services", p.Services) {
		if sp == nil {
			continue
		}
		field := fmt.Sprintf("props.Services[%d]", i)
		s := service{Name: check.Str(sp.Name), AlbArn: check.Str(sp.AlbArn), HealthCheckPath: check.Str(sp.HealthCheckPath),
			Port: chk.Int(field+".Port", sp.Port, 0), Alb: sp.Alb, TLS: check.Bool(sp.TLS)}
		s.AlbPort = chk.Int(field+".AlbPort", sp.AlbPort, s.Port)
		if s.HealthCheckPath == "" {
			s.HealthCheckPath = "/"
		}
		if s.AlbArn == "" && s.Alb != nil {
			s.AlbArn = *s.Alb.LoadBalancerArn()
		}
		if s.Name == "" || names[s.Name] {
			chk.Add(field+".Name", "%q: give every service a distinct name (a DNS label such as metrics)", s.Name)
		}
		if s.AlbArn == "" {
			chk.Add(field+".AlbArn", "is empty; give the ALB's ARN, or the ALB as Alb")
		}
		chk.Port(field+".Port", s.Port)
		chk.Port(field+".AlbPort", s.AlbPort)
		if other := ports[s.Port]; other != "" {
			chk.Add(field+".Port", "%d is also %s's; an NLB routes by port only, so give each service its own", s.Port, other)
		}
		names[s.Name], ports[s.Port] = true, s.Name
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out, groupIDs
}

// allHaveAlb reports whether every service has an Alb (reached through its
// security groups, so no CIDR rule is needed).
func allHaveAlb(services []service) bool {
	for _, s := range services {
		if s.Alb == nil {
			return false
		}
	}
	return true
}

func albPorts(services []service) []int {
	all := make([]int, len(services))
	for i, s := range services {
		all[i] = s.AlbPort
	}
	return netutil.Ports(all)
}

// LoadBalancer is the NLB behind the endpoint service.
func (s *AlbEndpointService) LoadBalancer() awselasticloadbalancingv2.INetworkLoadBalancer {
	return s.nlb
}

// SecurityGroup is the NLB's security group: what the ALBs must let in.
func (s *AlbEndpointService) SecurityGroup() awsec2.SecurityGroup { return s.sg }

// Connections are the NLB's security group's: alb.Connections().AllowFrom(s, ...)
// opens an ALB to the NLB.
func (s *AlbEndpointService) Connections() awsec2.Connections { return s.sg.Connections() }

// ListenerPorts are the NLB's listener ports, sorted: the ports of TargetGroups.
func (s *AlbEndpointService) ListenerPorts() []int { return append([]int(nil), s.ports...) }

// TargetGroups are the ALB target groups, one per listener, in port order.
func (s *AlbEndpointService) TargetGroups() []awselasticloadbalancingv2.NetworkTargetGroup {
	return append([]awselasticloadbalancingv2.NetworkTargetGroup(nil), s.targetGroups...)
}

// EndpointService is the VPC endpoint service consumers connect to.
func (s *AlbEndpointService) EndpointService() awsec2.VpcEndpointService {
	return s.pub.EndpointService()
}

// ServiceID is the endpoint service id (vpce-svc-...).
func (s *AlbEndpointService) ServiceID() *string { return s.pub.ServiceID() }

// ServiceName is com.amazonaws.vpce.<region>.<service id>.
func (s *AlbEndpointService) ServiceName() *string { return s.pub.ServiceName() }

// AllowedAccounts are the accounts allowed to connect, sorted.
func (s *AlbEndpointService) AllowedAccounts() []string { return s.pub.AllowedAccounts() }

// SupportedRegions are the other regions consumers may connect from, sorted.
func (s *AlbEndpointService) SupportedRegions() []string { return s.pub.SupportedRegions() }

// AdmissionFunction is the function that admits endpoint connections
// (Admission), or nil.
func (s *AlbEndpointService) AdmissionFunction() awslambda.Function {
	return s.pub.AdmissionFunction()
}
