// Package providerregion provides ProviderRegion: the provider side of obslink
// in one region. A VPC with no internet route holds an NginxProxyFleet behind
// an internal Network Load Balancer, published as a VPC endpoint service that
// only the consumer accounts may connect to.
package providerregion

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/endpointsvc"
	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/internal/netutil"
)

// Props configures a ProviderRegion.
type Props struct {
	// Vpc to place the provider in; its private subnets hold the NLB and the proxies.
	// Default: a new VPC with one isolated subnet per zone, from Cidr and AvailabilityZones.
	Vpc awsec2.IVpc
	// Cidr of the VPC to create. Required when Vpc is nil.
	Cidr string
	// AvailabilityZones of the VPC to create: list every zone of the region, since a
	// consumer's endpoint can only use zones the NLB is in. Required when Vpc is nil.
	AvailabilityZones []string
	// Routes are the services proxied to the cluster. Required: at least one.
	Routes []proxyfleet.Route
	// UpstreamCidrs are the networks of the cluster's ALBs. Required: at least one.
	UpstreamCidrs []string
	// AllowedAccounts are the 12-digit account ids that may create endpoints to
	// the service. Default: none (nobody can connect).
	AllowedAccounts []string
	// SupportedRegions are other regions from which consumers may connect
	// (native cross-region PrivateLink). Default: only this region.
	SupportedRegions []string
	// Fleet sizes the proxies; Vpc, Routes and UpstreamCidrs are filled in by
	// ProviderRegion. Default: proxyfleet defaults.
	Fleet proxyfleet.Props
	// Admission makes the service require acceptance, and a function
	// accepts the connections of AllowedAccounts and, with OUs, of accounts
	// under them (the service then allows "*": permissions cannot name an
	// OU), and rejects all others: on Connect notifications, every 15
	// minutes, and on deploys that change its settings. Default: nil (the
	// allowed accounts only, no acceptance step).
	Admission *Admission
}

// Admission is how a ProviderRegion admits accounts: the allowed accounts
// and, with OUs, the accounts under them (see endpointsvc.Admission).
type Admission = endpointsvc.Admission

// MaxAdmissionEnvironment is what the admission function's environment
// (settings, named accounts included) may take of Lambda's 4 KB.
const MaxAdmissionEnvironment = endpointsvc.MaxAdmissionEnvironment

// ProviderRegion is the VPC, proxies, NLB and endpoint service of one region.
type ProviderRegion struct {
	constructs.Construct
	vpc   awsec2.IVpc
	fleet *proxyfleet.NginxProxyFleet
	nlb   awselasticloadbalancingv2.NetworkLoadBalancer
	// pub is the endpoint service and who may connect.
	pub *endpointsvc.Service
	// targetGroups are the NLB's target groups, one per listener port, in port order.
	targetGroups []awselasticloadbalancingv2.NetworkTargetGroup
	ports        []int
}

var _ awsec2.IConnectable = (*ProviderRegion)(nil)

// New creates a ProviderRegion. It panics on props that cannot describe one.
func New(scope constructs.Construct, id string, props *Props) *ProviderRegion {
	if err := props.check(); err != nil {
		panic(fmt.Sprintf("providerregion.New(%q): %v", id, err))
	}
	r := &ProviderRegion{}
	constructs.NewConstruct_Override(r, scope, jsii.String(id))
	r.vpc = props.Vpc
	var s3 awsec2.GatewayVpcEndpoint
	// The endpoints the bootstrap needs before it can finish: CloudWatch Logs
	// (the agent) and CloudFormation (cfn-signal).
	var bootEndpoints []constructs.IDependable
	if r.vpc == nil {
		vpc := netutil.IsolatedVpc(r.Construct, "Vpc", props.Cidr, props.AvailabilityZones, "proxy")
		r.vpc = vpc
		// The proxies have no internet route: packages come through S3,
		// management through Session Manager, logs through CloudWatch Logs.
		s3 = vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
			Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		})
		for _, ep := range []struct {
			id  string
			svc awsec2.InterfaceVpcEndpointAwsService
		}{
			{"Ssm", awsec2.InterfaceVpcEndpointAwsService_SSM()},
			{"SsmMessages", awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES()},
			{"Ec2Messages", awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES()},
			// The proxies ship their logs with the CloudWatch agent.
			{"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
			// The bootstrap signals CloudFormation (cfn-signal) after its self-check.
			{"CloudFormation", awsec2.InterfaceVpcEndpointAwsService_CLOUDFORMATION()},
			// obslink-consumers lists the endpoint connections (consumer names).
			{"Ec2", awsec2.InterfaceVpcEndpointAwsService_EC2()},
		} {
			if ep.id == "Ec2" && !props.Fleet.ProxyProtocol {
				continue
			}
			// Open only to the VPC's own CIDR, written as the literal the
			// topology gives (CDK's default rule references the CIDR token,
			// which cdk-nag cannot check and warns about on every synth).
			e := vpc.AddInterfaceEndpoint(jsii.String(ep.id), &awsec2.InterfaceVpcEndpointOptions{
				Service: ep.svc, PrivateDnsEnabled: jsii.Bool(true), Open: jsii.Bool(false),
			})
			e.Connections().AllowFrom(awsec2.Peer_Ipv4(jsii.String(props.Cidr)), awsec2.Port_Tcp(jsii.Number(443)),
				jsii.String("from the provider VPC "+props.Cidr+" on 443"))
			if ep.id == "Logs" || ep.id == "CloudFormation" {
				bootEndpoints = append(bootEndpoints, e)
			}
		}
	}

	fp := props.Fleet
	fp.Vpc, fp.Routes, fp.UpstreamCidrs = r.vpc, props.Routes, props.UpstreamCidrs
	r.fleet = proxyfleet.New(r.Construct, "Fleet", &fp)
	if s3 != nil {
		// Packages come from the Amazon Linux repositories in S3, through the
		// gateway endpoint: open 443 to S3's prefix list, nothing wider. The
		// first instances boot only once both exist, so their bootstrap can install nginx.
		egress := awsec2.NewCfnSecurityGroupEgress(r.Construct, jsii.String("FleetToS3"), &awsec2.CfnSecurityGroupEgressProps{
			GroupId:                 (*r.fleet.Connections().SecurityGroups())[0].SecurityGroupId(),
			IpProtocol:              jsii.String("tcp"),
			FromPort:                jsii.Number(443),
			ToPort:                  jsii.Number(443),
			DestinationPrefixListId: s3PrefixList(r.Construct),
			Description:             jsii.String("to S3 through the gateway endpoint (Amazon Linux package repositories)"),
		})
		r.fleet.AutoScalingGroup().Node().AddDependency(append([]constructs.IDependable{egress, s3}, bootEndpoints...)...)
	}

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
	r.nlb = awselasticloadbalancingv2.NewNetworkLoadBalancer(r.Construct, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{
		Vpc:              r.vpc,
		InternetFacing:   jsii.Bool(false),
		CrossZoneEnabled: jsii.Bool(true),
		VpcSubnets:       &awsec2.SubnetSelection{Subnets: r.vpc.SelectSubnets(nil).Subnets},
		SecurityGroups:   &[]awsec2.ISecurityGroup{nlbSG},
		EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: jsii.Bool(false),
	})
	nag.Suppress(r.nlb, "AwsSolutions-ELB2",
		"NLB access logs only record TLS listeners; these listeners are TCP, so there is nothing to log. The VPC flow logs record every connection, and the proxies log every request with service, upstream and timings.")
	r.ports = listenerPorts(props.Routes)
	for _, port := range r.ports {
		l := r.nlb.AddListener(jsii.String(fmt.Sprintf("Port%d", port)), &awselasticloadbalancingv2.BaseNetworkListenerProps{
			Port:     jsii.Number(float64(port)),
			Protocol: awselasticloadbalancingv2.Protocol_TCP,
		})
		r.targetGroups = append(r.targetGroups, r.fleet.AttachTo(l, r.nlb, port))
	}

	r.pub = endpointsvc.Publish(r.Construct, r.nlb, endpointsvc.Props{
		AllowedAccounts: props.AllowedAccounts, SupportedRegions: props.SupportedRegions, Admission: props.Admission,
	})
	return r
}

func (p *Props) check() error {
	switch {
	case p == nil:
		return fmt.Errorf("props are nil")
	case len(p.Routes) == 0:
		return fmt.Errorf("props.Routes is empty; give at least one service")
	case p.Vpc == nil && (p.Cidr == "" || len(p.AvailabilityZones) == 0):
		return fmt.Errorf("give either Vpc or both Cidr and AvailabilityZones")
	}
	return nil
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

// LoadBalancer is the NLB behind the endpoint service.
func (r *ProviderRegion) LoadBalancer() awselasticloadbalancingv2.NetworkLoadBalancer { return r.nlb }

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

func listenerPorts(routes []proxyfleet.Route) []int {
	all := make([]int, len(routes))
	for i, rt := range routes {
		all[i] = rt.Port
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
