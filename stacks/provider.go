package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/constructs/proxyless"
	"github.com/obslink/obslink/topology"
)

// ProviderStackProps configures a ProviderStack.
type ProviderStackProps struct {
	awscdk.StackProps
	// Topology the stack belongs to (validated, defaults applied).
	Topology *topology.Topology
	// Region is the provider entry this stack builds.
	Region topology.Region
	// Hub is the main region's Transit Gateway stack (tgw only). Default: nil.
	Hub *HubStack
}

// Endpoint is what consumers need of a provider: its endpoint service and
// who may connect to it.
type Endpoint interface {
	ServiceID() *string
	ServiceName() *string
	AllowedAccounts() []string
	SupportedRegions() []string
}

// ProviderStack holds the ProviderRegion of one region, in the control
// plane's account; in proxy.mode none, the AlbEndpointService of the
// cluster VPC instead (Provider is then nil).
type ProviderStack struct {
	awscdk.Stack
	Provider *providerregion.ProviderRegion
	// Proxyless is the cluster VPC's endpoint service in proxy.mode none, else nil.
	Proxyless *proxyless.AlbEndpointService
	link      clusterLink
	topology  *topology.Topology
	// reader is the output-reader role (organizationId set), else nil.
	reader awsiam.Role
	// Monitor holds the region's alarms and dashboard.
	Monitor *linkmonitor.LinkMonitor
	// env is the stack's account, region and name, read once: a read
	// through jsii is a round trip to Node per call.
	env stackEnv
	// outputs are the outputs Read added; reads the tokens it handed out,
	// by output and whether the reader is in another account; serviceNames
	// the endpoint service names consumers read, by the same.
	outputs      map[string]bool
	reads        map[string]*string
	serviceNames map[bool]*string
	// admits checks that the endpoint service admits the consumers of this
	// provider (NewConsumerStack adds them).
	admits *admitted
}

// stackEnv is a stack's account and region, and a provider's name.
type stackEnv struct{ account, region, name string }

// envOf reads the account and region of stack, which props created.
func envOf(stack awscdk.Stack, props *awscdk.StackProps) stackEnv {
	if props.Env != nil && props.Env.Account != nil && props.Env.Region != nil {
		return stackEnv{account: *props.Env.Account, region: *props.Env.Region}
	}
	return stackEnv{account: *stack.Account(), region: *stack.Region()}
}

func newProviderStack(stack awscdk.Stack, props *ProviderStackProps) *ProviderStack {
	env := envOf(stack, &props.StackProps)
	env.name = *stack.StackName()
	return &ProviderStack{Stack: stack, topology: props.Topology, env: env,
		outputs: map[string]bool{}, reads: map[string]*string{}, serviceNames: map[bool]*string{}}
}

// Endpoint is the stack's endpoint service: the ProviderRegion's, or the
// AlbEndpointService's in proxy.mode none.
func (p *ProviderStack) Endpoint() Endpoint {
	if p.Proxyless != nil {
		return p.Proxyless
	}
	return p.Provider
}

// NewProviderStack creates the provider stack of one region.
func NewProviderStack(scope constructs.Construct, id string, props *ProviderStackProps) *ProviderStack {
	t, r := props.Topology, props.Region
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	var supported []string
	for _, region := range t.ConsumerRegions(r.Region) {
		if region != r.Region {
			supported = append(supported, region)
		}
	}
	admission := newAdmission(t, r.Region)
	ps := newProviderStack(stack, props)
	if t.Proxyless() {
		newProxylessStack(ps, t, r, supported, admission)
		return ps
	}
	p := providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{
		Admission:         admission,
		Cidr:              str(r.CIDR),
		AvailabilityZones: strs(r.AvailabilityZones),
		Routes:            Routes(t),
		UpstreamCidrs:     jsii.Strings(t.ControlPlane.VPC.CIDR),
		AllowedAccounts:   strs(t.ConsumerAccounts(r.Region)),
		SupportedRegions:  strs(supported),
		Fleet: &proxyfleet.Props{
			InstanceType:    str(t.Proxy.InstanceType),
			MinCapacity:     num(t.Proxy.Min()),
			MaxCapacity:     num(t.Proxy.Max()),
			ImageID:         str(t.Proxy.ImageIDs[r.Region]),
			ImageLatest:     jsii.Bool(t.Proxy.Image == topology.ImageLatest),
			ImageGeneration: num(t.Proxy.Generation()),
			Consumers:       fleetConsumers(t, r.Region),
			// Proxy protocol and the header: see topology.Proxy.
			ProxyProtocol:         jsii.Bool(t.Proxy.Attribution()),
			DisableConsumerHeader: jsii.Bool(!t.Proxy.Header()),
		},
	})
	ps.Provider = p
	ps.output(p.ServiceName(), r.Region)
	if t.InterRegion == topology.TGW {
		stack.AddStackDependency(props.Hub.Stack, jsii.String("the hub gateway must exist before attachments and peerings"))
	}
	ps.link = linkToCluster(stack, t, r, p.Vpc(), props.Hub)
	ps.Monitor = newMonitor(stack, t, r, p, ps.link)
	return ps
}

// newAdmission is the admission of the provider in region: with StackSets
// every provider admits through its function (acceptance required), so
// adding or removing a consumer group never flips acceptance while the
// permissions change. Without StackSets, nil.
func newAdmission(t *topology.Topology, region string) *providerregion.Admission {
	if !t.StackSetsEnabled() {
		return nil
	}
	var ous, excluded []string
	for _, g := range t.GroupsServedBy(region) {
		ous = append(ous, g.OrganizationalUnitIDs...)
		excluded = append(excluded, g.ExcludeAccounts...)
	}
	return &providerregion.Admission{
		OrganizationReaderRoleArn: jsii.String("arn:" + topology.Partition(region) + ":iam::" + t.ControlPlane.StackSetAccount() + ":role/" + OrgReaderRoleName(t)),
		RoleName:                  jsii.String(AdmitRoleName(t, region)),
		OrganizationalUnitIDs:     strs(ous),
		ExcludedAccounts:          strs(excluded),
	}
}

// output publishes the service name for operators (the name consumers
// outside this topology would connect to) and, with an organization, the
// output-reader role.
func (p *ProviderStack) output(serviceName *string, region string) {
	awscdk.NewCfnOutput(p.Stack, jsii.String("EndpointServiceName"), &awscdk.CfnOutputProps{
		Value:       serviceName,
		Description: jsii.String("obslink endpoint service for consumers of " + region),
	})
	if p.topology.ControlPlane.OrganizationID != "" {
		p.reader = newOutputReader(p.Stack, p.topology, region)
	}
}

// newProxylessStack fills the provider stack of proxy.mode none: the
// cluster VPC's NLB in front of the ALBs, published for every consumer
// region, watched like a provider (without the fleet's alarms).
func newProxylessStack(ps *ProviderStack, t *topology.Topology, r topology.Region, supported []string, admission *providerregion.Admission) {
	stack, cp := ps.Stack, t.ControlPlane
	var subnets []awsec2.ISubnet
	for i, id := range cp.VPC.SubnetIDs {
		subnet := awsec2.Subnet_FromSubnetAttributes(stack, jsii.String("Subnet"+strconv.Itoa(i)), &awsec2.SubnetAttributes{
			SubnetId: jsii.String(id), AvailabilityZone: jsii.String(cp.VPC.AvailabilityZones[i]),
		})
		// obslink adds no routes in the cluster VPC in this mode.
		awscdk.Annotations_Of(subnet).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ec2:noSubnetRouteTableId"),
			jsii.String("obslink adds no routes in the cluster VPC in proxy.mode none"))
		subnets = append(subnets, subnet)
	}
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("ClusterVpc"), &awsec2.VpcAttributes{
		VpcId:             jsii.String(cp.VPC.ID),
		VpcCidrBlock:      jsii.String(cp.VPC.CIDR),
		AvailabilityZones: jsii.Strings(cp.VPC.AvailabilityZones...),
	})
	services := make([]*proxyless.Service, 0, len(t.Services))
	for _, s := range t.Services {
		services = append(services, &proxyless.Service{
			Name: jsii.String(s.Name), Port: num(s.Port), AlbArn: str(s.ALBArn), AlbPort: num(s.UpstreamPort),
			TLS: jsii.Bool(s.UpstreamTLS), HealthCheckPath: str(s.HealthCheckPath),
		})
	}
	e := proxyless.New(stack, jsii.String("Endpoint"), &proxyless.Props{
		Vpc:                 vpc,
		Subnets:             &awsec2.SubnetSelection{Subnets: &subnets},
		Services:            &services,
		AlbSecurityGroupIDs: strs(cp.VPC.ALBSecurityGroupIDs),
		AllowedAccounts:     strs(t.ConsumerAccounts(r.Region)),
		SupportedRegions:    strs(supported),
		Admission:           admission,
	})
	ps.Proxyless = e
	ps.output(e.ServiceName(), r.Region)
	// With albIngress manual, the operator lets this group into the ALBs.
	awscdk.NewCfnOutput(stack, jsii.String("LoadBalancerSecurityGroupId"), &awscdk.CfnOutputProps{
		Value:       e.SecurityGroup().SecurityGroupId(),
		Description: jsii.String("obslink: the endpoint service NLB's security group, which the ALBs must let in on their listener ports"),
	})
	// No fleet: the target alarms speak of the ALBs (validation refuses the
	// fleet's thresholds in this mode).
	ps.Monitor = linkmonitor.New(stack, jsii.String("Monitor"), monitorProps(stack, t, r, e))
}

// monitored is what the alarms watch of a provider: its NLB, target groups
// and endpoint service (a ProviderRegion or an AlbEndpointService).
type monitored interface {
	LoadBalancer() awselasticloadbalancingv2.INetworkLoadBalancer
	ListenerPorts() []int
	TargetGroups() []awselasticloadbalancingv2.NetworkTargetGroup
	ServiceID() *string
	AdmissionFunction() awslambda.Function
}

// monitorProps are the alarms' settings every provider shares: the NLB and
// its target groups, the endpoint service, the thresholds, admission and
// the alarm topic.
func monitorProps(stack awscdk.Stack, t *topology.Topology, r topology.Region, p monitored) *linkmonitor.Props {
	m := t.Monitoring
	var targetGroups []*linkmonitor.TargetGroup
	groups := p.TargetGroups()
	for i, port := range p.ListenerPorts() {
		targetGroups = append(targetGroups, &linkmonitor.TargetGroup{Port: jsii.Number(float64(port)), Group: groups[i]})
	}
	props := &linkmonitor.Props{
		Name:         stack.StackName(),
		LoadBalancer: p.LoadBalancer(),
		TargetGroups: &targetGroups,
		ServiceID:    p.ServiceID(),
		Thresholds: &linkmonitor.Thresholds{
			MinHealthyHosts:   numOf(m.MinHealthyHosts),
			TargetResets:      numOf(m.TargetResets),
			CPUPercent:        numOf(m.CPUPercent),
			EvaluationMinutes: numOf(m.EvaluationMinutes),
			UpstreamErrors:    numOf(m.UpstreamErrors),
			NetworkPercent:    numOf(m.NetworkPercent),
		},
		AdmissionFunction: p.AdmissionFunction(),
	}
	if arn := m.AlarmTopicArnIn(r.Region); arn != "" {
		props.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(arn))
	}
	return props
}

// newMonitor creates the region's alarms and dashboard.
func newMonitor(stack awscdk.Stack, t *topology.Topology, r topology.Region, p *providerregion.ProviderRegion, link clusterLink) *linkmonitor.LinkMonitor {
	props := monitorProps(stack, t, r, p)
	props.AutoScalingGroup = p.Fleet().AutoScalingGroup()
	props.InstanceType = str(t.Proxy.InstanceType)
	props.MinCapacity = num(t.Proxy.Min())
	props.NetworkBaselineMbps = numOf(t.Monitoring.NetworkBaselineMbps)
	props.AccessLogGroup = p.Fleet().AccessLogGroup()
	var services []string
	for _, s := range t.Services {
		services = append(services, s.Name)
	}
	props.Services = strs(services)
	if link.gateway != nil && link.attachment != nil {
		props.TransitGatewayID = link.gateway.ID()
		props.TransitGatewayAttachmentID = link.attachment.Ref()
		props.TransitGatewayPeeringAttachmentID = link.peeringAttachment
	}
	return linkmonitor.New(stack, jsii.String("Monitor"), props)
}

// fleetConsumers are the consumers the provider in region serves, as its proxies name them.
func fleetConsumers(t *topology.Topology, region string) *[]*proxyfleet.Consumer {
	var out []*proxyfleet.Consumer
	for _, c := range t.Consumers {
		if t.ProviderRegionFor(c.Region) == region {
			out = append(out, &proxyfleet.Consumer{Account: jsii.String(c.Account), Region: jsii.String(c.Region), Name: jsii.String(c.Name)})
		}
	}
	return &out
}

// Routes turns the topology's services into proxy routes.
func Routes(t *topology.Topology) *[]*proxyfleet.Route {
	out := make([]*proxyfleet.Route, 0, len(t.Services))
	for _, s := range t.Services {
		out = append(out, &proxyfleet.Route{
			Name:           jsii.String(s.Name),
			Host:           jsii.String(s.Host(t.Domain)),
			Port:           jsii.Number(float64(s.Port)),
			Upstream:       jsii.String(s.Upstream),
			UpstreamPort:   jsii.Number(float64(s.UpstreamPort)),
			GRPC:           jsii.Bool(s.Protocol == topology.ProtocolGRPC),
			UpstreamTLS:    jsii.Bool(s.UpstreamTLS),
			TLSPassthrough: jsii.Bool(t.Passthrough(s)),
		})
	}
	return &out
}
