// Package providerregion provides ProviderRegion: the provider side of obslink
// in one region. A VPC with no internet route holds an NginxProxyFleet behind
// an internal Network Load Balancer, published as a VPC endpoint service that
// only the consumer accounts may connect to.
package providerregion

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/endpointservice"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/internal/netutil"
)

// Props configures a ProviderRegion.
type Props struct {
	// Vpc to place the provider in (yours, as an L2 object or an import);
	// its private subnets hold the NLB and the proxies, which need no
	// internet route: VpcEndpoints says how they reach the AWS services
	// their bootstrap needs. Default: a new VPC with one isolated subnet
	// per zone, from Cidr and AvailabilityZones, with those endpoints.
	Vpc awsec2.IVpc
	// Cidr of the VPC to create. Required when Vpc is nil.
	Cidr *string
	// AvailabilityZones of the VPC to create: list every zone of the region, since a
	// consumer's endpoint can only use zones the NLB is in. Required when Vpc is nil.
	AvailabilityZones *[]*string
	// VpcEndpoints says how the proxies in Vpc reach the AWS services their
	// bootstrap and operation need: dnf's repositories in S3 (a gateway
	// endpoint), Session Manager (SSM, SSM messages, EC2 messages),
	// CloudWatch Logs (the CloudWatch agent), CloudFormation (cfn-signal)
	// and, with the fleet's ProxyProtocol, EC2 (consumer names). Without
	// them the first instances never finish their bootstrap and the deploy
	// fails after the signal timeout. Ignored without Vpc (a new VPC gets
	// them). Default: EndpointsCreate.
	VpcEndpoints VpcEndpoints
	// LoadBalancer is an NLB of yours to publish: ProviderRegion adds a TCP
	// listener per route port to it, targets the proxies, and lets it reach
	// them through Connections. It must be internal, in Vpc, in every zone
	// a consumer uses, and belong to no other endpoint service. Default: a
	// new internal NLB in every subnet of Vpc, cross-zone, whose security
	// group admits nothing (PrivateLink traffic is not filtered by it).
	LoadBalancer awselasticloadbalancingv2.INetworkLoadBalancer
	// Routes are the services proxied to the cluster. Required: at least one.
	Routes *[]*proxyfleet.Route
	// UpstreamCidrs are the networks of the cluster's ALBs. Required: at
	// least one, unless every route has an Alb.
	UpstreamCidrs *[]*string
	// AllowedAccounts are the 12-digit account ids that may create endpoints to
	// the service. Default: none (nobody can connect).
	AllowedAccounts *[]*string
	// SupportedRegions are other regions from which consumers may connect
	// (native cross-region PrivateLink). Default: only this region.
	SupportedRegions *[]*string
	// Fleet sizes the proxies; Vpc, Routes and UpstreamCidrs are filled in by
	// ProviderRegion. Default: proxyfleet defaults.
	Fleet *proxyfleet.Props
	// Admission makes the service require acceptance, and a function
	// accepts the connections of AllowedAccounts and, with OUs, of accounts
	// under them (the service then allows "*": permissions cannot name an
	// OU), and rejects all others: on Connect notifications, every 15
	// minutes, and on deploys that change its settings. Default: nil (the
	// allowed accounts only, no acceptance step).
	Admission *Admission
}

// VpcEndpoints is how a ProviderRegion in a VPC of yours provides the AWS
// service endpoints its proxies need (Props.VpcEndpoints).
type VpcEndpoints string

const (
	// EndpointsCreate creates them in the ProviderRegion ("Endpoints"),
	// interface endpoints with private DNS open to the proxies only. A VPC
	// that already has an interface endpoint with private DNS for one of
	// these services cannot take a second one: use EndpointsCheck there.
	EndpointsCreate VpcEndpoints = ""
	// EndpointsCheck creates none and checks at synth that the app has each
	// on the VPC (a gateway endpoint for S3, interface endpoints for the
	// others); synthesis fails with the list of those it did not find. The
	// endpoints' security groups must admit the proxies
	// (Connections()) on 443.
	EndpointsCheck VpcEndpoints = "check"
	// EndpointsExternal creates and checks none: the VPC has them, made
	// outside this app. A missing one fails the deploy at the signal timeout.
	EndpointsExternal VpcEndpoints = "external"
)

// Admission is how a ProviderRegion admits accounts: the allowed accounts
// and, with OUs, the accounts under them (see endpointservice.Admission).
type Admission = endpointservice.Admission

// MaxAdmissionEnvironment is what the admission function's environment
// (settings, named accounts included) may take of Lambda's 4 KB.
const MaxAdmissionEnvironment = endpointservice.MaxAdmissionEnvironment

// ProviderRegion is the VPC, proxies, NLB and endpoint service of one region.
type ProviderRegion struct {
	constructs.Construct
	vpc   awsec2.IVpc
	fleet *proxyfleet.NginxProxyFleet
	nlb   awselasticloadbalancingv2.INetworkLoadBalancer
	// pub is the endpoint service and who may connect.
	pub *endpointservice.Service
	// targetGroups are the NLB's target groups, one per listener port, in port order.
	targetGroups []awselasticloadbalancingv2.NetworkTargetGroup
	ports        []int
}

var _ awsec2.IConnectable = (*ProviderRegion)(nil)

// endpoint is an AWS service the proxies reach through an interface endpoint.
type endpoint struct {
	id  string
	svc awsec2.InterfaceVpcEndpointAwsService
	// boot: the bootstrap needs it before it can finish.
	boot bool
}

// endpoints are the interface endpoints the proxies need, in creation order.
func endpoints(proxyProtocol bool) []endpoint {
	out := []endpoint{
		// The bootstrap fetches the proxies' files from SSM parameters.
		{"Ssm", awsec2.InterfaceVpcEndpointAwsService_SSM(), true},
		{"SsmMessages", awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES(), false},
		{"Ec2Messages", awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES(), false},
		// The proxies ship their logs with the CloudWatch agent.
		{"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(), true},
		// The bootstrap signals CloudFormation (cfn-signal) after its self-check.
		{"CloudFormation", awsec2.InterfaceVpcEndpointAwsService_CLOUDFORMATION(), true},
	}
	if proxyProtocol {
		// obslink-consumers lists the endpoint connections (consumer names).
		out = append(out, endpoint{"Ec2", awsec2.InterfaceVpcEndpointAwsService_EC2(), false})
	}
	return out
}

// New creates a ProviderRegion. It panics on props that cannot describe
// one, with every mistake, the construct's path and the field.
func New(scope constructs.Construct, id *string, props *Props) *ProviderRegion {
	chk := check.New("providerregion.New", scope, id)
	set := props.settings(chk)
	chk.Panic()
	r := &ProviderRegion{}
	constructs.NewConstruct_Override(r, scope, id)
	r.vpc = props.Vpc
	var s3 awsec2.IGatewayVpcEndpoint
	// The endpoints the bootstrap needs before it can finish: SSM (its
	// files), CloudWatch Logs (the agent) and CloudFormation (cfn-signal).
	var bootEndpoints []constructs.IDependable
	var created []awsec2.InterfaceVpcEndpoint
	switch {
	case r.vpc == nil:
		vpc := netutil.IsolatedVpc(r.Construct, "Vpc", set.cidr, set.zones, "proxy")
		r.vpc = vpc
		// The proxies have no internet route: packages come through S3,
		// management through Session Manager, logs through CloudWatch Logs.
		s3 = vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
			Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		})
		for _, ep := range endpoints(set.proxyProtocol) {
			// Open only to the VPC's own CIDR, written as the literal the
			// topology gives (CDK's default rule references the CIDR token,
			// which cdk-nag cannot check and warns about on every synth).
			e := vpc.AddInterfaceEndpoint(jsii.String(ep.id), &awsec2.InterfaceVpcEndpointOptions{
				Service: ep.svc, PrivateDnsEnabled: jsii.Bool(true), Open: jsii.Bool(false),
			})
			e.Connections().AllowFrom(awsec2.Peer_Ipv4(jsii.String(set.cidr)), awsec2.Port_Tcp(jsii.Number(443)),
				jsii.String("from the provider VPC "+set.cidr+" on 443"))
			if ep.boot {
				bootEndpoints = append(bootEndpoints, e)
			}
		}
	case props.VpcEndpoints == EndpointsCreate:
		scope := constructs.NewConstruct(r, jsii.String("Endpoints"))
		s3 = awsec2.NewGatewayVpcEndpoint(scope, jsii.String("S3"), &awsec2.GatewayVpcEndpointProps{
			Vpc: r.vpc, Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		})
		for _, ep := range endpoints(set.proxyProtocol) {
			e := awsec2.NewInterfaceVpcEndpoint(scope, jsii.String(ep.id), &awsec2.InterfaceVpcEndpointProps{
				Vpc: r.vpc, Service: ep.svc, PrivateDnsEnabled: jsii.Bool(true), Open: jsii.Bool(false),
			})
			created = append(created, e)
			if ep.boot {
				bootEndpoints = append(bootEndpoints, e)
			}
		}
	case props.VpcEndpoints == EndpointsCheck:
		r.Node().AddValidation(&endpointCheck{region: r, proxyProtocol: set.proxyProtocol})
	}

	var fp proxyfleet.Props
	if props.Fleet != nil {
		fp = *props.Fleet
	}
	fp.Vpc, fp.Routes, fp.UpstreamCidrs = r.vpc, props.Routes, props.UpstreamCidrs
	r.fleet = proxyfleet.New(r.Construct, jsii.String("Fleet"), &fp)
	for _, e := range created {
		// A VPC of yours: the endpoints admit the proxies only.
		e.Connections().AllowDefaultPortFrom(r.fleet, jsii.String("from the obslink proxies"))
	}
	// Packages come from the Amazon Linux repositories in S3, through the
	// gateway endpoint: open 443 to S3's prefix list, nothing wider. The
	// first instances boot only once both exist, so their bootstrap can
	// install nginx.
	egress := awsec2.NewCfnSecurityGroupEgress(r.Construct, jsii.String("FleetToS3"), &awsec2.CfnSecurityGroupEgressProps{
		GroupId:                 (*r.fleet.Connections().SecurityGroups())[0].SecurityGroupId(),
		IpProtocol:              jsii.String("tcp"),
		FromPort:                jsii.Number(443),
		ToPort:                  jsii.Number(443),
		DestinationPrefixListId: s3PrefixList(r.Construct),
		Description:             jsii.String("to S3 through the gateway endpoint (Amazon Linux package repositories)"),
	})
	deps := []constructs.IDependable{egress}
	if s3 != nil {
		deps = append(deps, s3)
	}
	r.fleet.AutoScalingGroup().Node().AddDependency(append(deps, bootEndpoints...)...)

	r.nlb = props.LoadBalancer
	if r.nlb == nil {
		r.nlb = r.newLoadBalancer()
	}
	r.ports = listenerPorts(*props.Routes)
	for _, port := range r.ports {
		l := r.nlb.AddListener(jsii.String(fmt.Sprintf("Port%d", port)), &awselasticloadbalancingv2.BaseNetworkListenerProps{
			Port:     jsii.Number(float64(port)),
			Protocol: awselasticloadbalancingv2.Protocol_TCP,
		})
		r.targetGroups = append(r.targetGroups, r.fleet.AttachTo(l, r.nlb, port))
	}

	r.pub = endpointservice.Publish(r.Construct, r.nlb, &endpointservice.Props{
		AllowedAccounts: props.AllowedAccounts, SupportedRegions: props.SupportedRegions, Admission: props.Admission,
	})
	return r
}

// newLoadBalancer is the internal NLB in every subnet of the VPC.
func (r *ProviderRegion) newLoadBalancer() awselasticloadbalancingv2.NetworkLoadBalancer {
	// With a security group, an NLB by default applies its inbound rules to
	// PrivateLink traffic too and silently drops what they do not allow
	// (aws-cdk#29516). PrivateLink traffic is gated by the allowed principals and
	// the consumers' endpoint security groups, so enforcement is off and the group
	// has no inbound rules: nothing inside the provider VPC can reach the NLB.
	nlbSG := awsec2.NewSecurityGroup(r.Construct, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              r.vpc,
		Description:      jsii.String("obslink NLB: PrivateLink traffic only, out to the proxies only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// The NLB's egress rules to the proxies are standalone resources.
	netutil.PinNoEgress(nlbSG)
	nlb := awselasticloadbalancingv2.NewNetworkLoadBalancer(r.Construct, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{
		Vpc:              r.vpc,
		InternetFacing:   jsii.Bool(false),
		CrossZoneEnabled: jsii.Bool(true),
		VpcSubnets:       &awsec2.SubnetSelection{Subnets: r.vpc.SelectSubnets(nil).Subnets},
		SecurityGroups:   &[]awsec2.ISecurityGroup{nlbSG},
		EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: jsii.Bool(false),
	})
	nag.Suppress(nlb, "AwsSolutions-ELB2",
		"NLB access logs only record TLS listeners; these listeners are TCP, so there is nothing to log. The VPC flow logs record every connection, and the proxies log every request with service, upstream and timings.")
	return nlb
}

// settings are the values of Props a ProviderRegion reads itself (the
// fleet reads the rest).
type settings struct {
	cidr          string
	zones         []string
	proxyProtocol bool
}

// settings are p's values, recording in chk what cannot describe a
// ProviderRegion.
func (p *Props) settings(chk *check.Props) settings {
	var s settings
	if p == nil {
		chk.Add("props", "is nil; pass &providerregion.Props{Vpc: ..., Routes: ..., UpstreamCidrs: ...}")
		return s
	}
	s.cidr, s.zones = check.Str(p.Cidr), chk.Strings("props.AvailabilityZones", p.AvailabilityZones)
	if p.Fleet != nil {
		s.proxyProtocol = check.Bool(p.Fleet.ProxyProtocol)
	}
	if p.Routes == nil || len(*p.Routes) == 0 {
		chk.Add("props.Routes", "is empty; give at least one service")
	}
	if p.Vpc == nil {
		if s.cidr == "" || len(s.zones) == 0 {
			chk.Add("props.Vpc", "is nil; give your VPC, or Cidr and AvailabilityZones for a new one")
		} else if chk.Literal("props.Cidr", s.cidr, "it sizes the new VPC's subnets; give a literal CIDR, or your VPC as Vpc") {
			if _, err := netutil.SubnetMask(s.cidr, len(s.zones)); err != nil {
				chk.Add("props.Cidr", "%v", err)
			}
		}
		for i, z := range s.zones {
			if z == "" && (*p.AvailabilityZones)[i] != nil {
				chk.Add(fmt.Sprintf("props.AvailabilityZones[%d]", i), "is empty; give a zone name (eu-west-1a) or id (euw1-az1)")
			}
		}
	}
	switch p.VpcEndpoints {
	case EndpointsCreate, EndpointsCheck, EndpointsExternal:
	default:
		chk.Add("props.VpcEndpoints", "%q: use EndpointsCreate, EndpointsCheck or EndpointsExternal", string(p.VpcEndpoints))
	}
	for i, a := range chk.Strings("props.AllowedAccounts", p.AllowedAccounts) {
		chk.Account(fmt.Sprintf("props.AllowedAccounts[%d]", i), a, "the consumer's account")
	}
	return s
}

// endpointCheck is EndpointsCheck: at synth, the endpoints the proxies
// need must be on the VPC somewhere in the app.
type endpointCheck struct {
	region        *ProviderRegion
	proxyProtocol bool
}

// Validate implements constructs.IValidation.
func (c *endpointCheck) Validate() *[]*string {
	vpc := c.region.vpc
	vpcStack := awscdk.Stack_Of(vpc)
	want := jsonOf(vpcStack.Resolve(vpc.VpcId()))
	have := map[string]bool{}
	for _, n := range *c.region.Node().Root().Node().FindAll(constructs.ConstructOrder_PREORDER) {
		e, ok := n.(awsec2.CfnVPCEndpoint)
		if !ok || awscdk.Stack_Of(e) != vpcStack || jsonOf(vpcStack.Resolve(e.VpcId())) != want {
			continue
		}
		have[jsonOf(vpcStack.Resolve(e.ServiceName()))] = true
	}
	var missing []string
	if !have[jsonOf(vpcStack.Resolve(awsec2.GatewayVpcEndpointAwsService_S3().Name()))] {
		missing = append(missing, "S3 (gateway)")
	}
	for _, ep := range endpoints(c.proxyProtocol) {
		if !have[jsonOf(vpcStack.Resolve(ep.svc.Name()))] {
			missing = append(missing, *ep.svc.ShortName())
		}
	}
	if len(missing) == 0 {
		return &[]*string{}
	}
	return &[]*string{jsii.String(fmt.Sprintf(
		"props.VpcEndpoints is EndpointsCheck, but the VPC has no endpoint for %s in this app: the proxies' bootstrap needs them "+
			"(dnf, Session Manager, the CloudWatch agent, cfn-signal). Add them to the VPC, or use EndpointsCreate to have ProviderRegion "+
			"create them, or EndpointsExternal if they exist outside this app",
		strings.Join(missing, ", ")))}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Vpc is the provider VPC.
func (r *ProviderRegion) Vpc() awsec2.IVpc { return r.vpc }

// AdmissionFunction is the function that admits endpoint connections
// (Admission), or nil.
func (r *ProviderRegion) AdmissionFunction() awslambda.Function { return r.pub.AdmissionFunction() }

// Connections are the proxies' (the fleet's security group): what callers
// open to let the proxies reach more, or to let more reach them.
func (r *ProviderRegion) Connections() awsec2.Connections { return r.fleet.Connections() }

// Fleet is the region's proxy fleet.
func (r *ProviderRegion) Fleet() *proxyfleet.NginxProxyFleet { return r.fleet }

// LoadBalancer is the NLB behind the endpoint service (Props.LoadBalancer
// or the one ProviderRegion created).
func (r *ProviderRegion) LoadBalancer() awselasticloadbalancingv2.INetworkLoadBalancer { return r.nlb }

// ListenerPorts are the NLB's listener ports, sorted: the ports of TargetGroups.
func (r *ProviderRegion) ListenerPorts() []int { return append([]int(nil), r.ports...) }

// TargetGroups are the NLB's target groups, one per listener port, in port order.
func (r *ProviderRegion) TargetGroups() []awselasticloadbalancingv2.NetworkTargetGroup {
	return append([]awselasticloadbalancingv2.NetworkTargetGroup(nil), r.targetGroups...)
}

// EndpointService is the VPC endpoint service consumers connect to.
func (r *ProviderRegion) EndpointService() awsec2.VpcEndpointService { return r.pub.EndpointService() }

// ServiceID is the endpoint service id (vpce-svc-...), a plain resource
// attribute that can cross accounts as a weak reference.
func (r *ProviderRegion) ServiceID() *string { return r.pub.ServiceID() }

// AllowedAccounts are the accounts allowed to connect, sorted.
func (r *ProviderRegion) AllowedAccounts() []string { return r.pub.AllowedAccounts() }

// SupportedRegions are the other regions consumers may connect from, sorted.
func (r *ProviderRegion) SupportedRegions() []string { return r.pub.SupportedRegions() }

// ServiceName is com.amazonaws.vpce.<region>.<service id>.
func (r *ProviderRegion) ServiceName() *string { return r.pub.ServiceName() }

// listenerPorts are the routes' ports (the fleet checked them).
func listenerPorts(routes []*proxyfleet.Route) []int {
	all := make([]int, len(routes))
	for i, rt := range routes {
		all[i] = int(*rt.Port)
	}
	return netutil.Ports(all)
}

// s3PrefixList looks up the id of the region's S3 prefix list at deploy time
// (CloudFormation has no attribute for it; a synth-time lookup would need
// AWS credentials).
func s3PrefixList(scope constructs.Construct) *string {
	region := awscdk.Stack_Of(scope).Region()
	call := &customresources.AwsSdkCall{
		Service: jsii.String("EC2"),
		Action:  jsii.String("describeManagedPrefixLists"),
		Parameters: map[string]any{
			"Filters": []map[string]any{{"Name": "prefix-list-name", "Values": []*string{jsii.String("com.amazonaws." + *region + ".s3")}}},
		},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String("s3-prefix-list")),
		OutputPaths:        jsii.Strings("PrefixLists.0.PrefixListId"),
	}
	cr := customresources.NewAwsCustomResource(scope, jsii.String("S3PrefixList"), &customresources.AwsCustomResourceProps{
		OnCreate:            call,
		OnUpdate:            call,
		InstallLatestAwsSdk: jsii.Bool(false),
		Policy: customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{
			Resources: customresources.AwsCustomResourcePolicy_ANY_RESOURCE(),
		}),
	})
	nag.Suppress(cr, "AwsSolutions-IAM5",
		"ec2:DescribeManagedPrefixLists supports no resource-level permissions; the function only reads the S3 prefix list id.", "Resource::*")
	nag.SuppressAwsCustomResourceFunction(awscdk.Stack_Of(scope))
	return cr.GetResponseField(jsii.String("PrefixLists.0.PrefixListId"))
}
