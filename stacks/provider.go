package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
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

// ProviderStack holds the ProviderRegion of one region, in the control plane's account.
type ProviderStack struct {
	awscdk.Stack
	Provider *providerregion.ProviderRegion
	link     clusterLink
	topology *topology.Topology
	// reader is the output-reader role (organizationId set), else nil.
	reader awsiam.Role
	// Monitor holds the region's alarms and dashboard.
	Monitor *linkmonitor.LinkMonitor
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
	// With StackSets every provider admits through its function (acceptance
	// required), so adding or removing a consumer group never flips
	// acceptance while the permissions change.
	var admission *providerregion.Admission
	if t.StackSetsEnabled() {
		admission = &providerregion.Admission{
			OrganizationReaderRoleArn: "arn:" + topology.Partition(r.Region) + ":iam::" + t.ControlPlane.StackSetAccount() + ":role/" + OrgReaderRoleName(t),
			RoleName:                  AdmitRoleName(t, r.Region),
		}
		for _, g := range t.GroupsServedBy(r.Region) {
			admission.OrganizationalUnitIDs = append(admission.OrganizationalUnitIDs, g.OrganizationalUnitIDs...)
		}
	}
	p := providerregion.New(stack, "Provider", &providerregion.Props{
		Admission:         admission,
		Cidr:              r.CIDR,
		AvailabilityZones: r.AvailabilityZones,
		Routes:            Routes(t),
		UpstreamCidrs:     []string{t.ControlPlane.VPC.CIDR},
		AllowedAccounts:   t.ConsumerAccounts(r.Region),
		SupportedRegions:  supported,
		Fleet: proxyfleet.Props{
			InstanceType:    t.Proxy.InstanceType,
			MinCapacity:     t.Proxy.Min(),
			MaxCapacity:     t.Proxy.Max(),
			ImageID:         t.Proxy.ImageIDs[r.Region],
			ImageLatest:     t.Proxy.Image == topology.ImageLatest,
			ImageGeneration: t.Proxy.Generation(),
			Consumers:       fleetConsumers(t, r.Region),
			// Proxy protocol and the header: see topology.Proxy.
			ProxyProtocol:         t.Proxy.Attribution(),
			DisableConsumerHeader: !t.Proxy.Header(),
		},
	})
	// For operators: the name consumers outside this topology would connect to.
	awscdk.NewCfnOutput(stack, jsii.String("EndpointServiceName"), &awscdk.CfnOutputProps{
		Value:       p.ServiceName(),
		Description: jsii.String("obslink endpoint service for consumers of " + r.Region),
	})
	ps := &ProviderStack{Stack: stack, Provider: p, topology: t}
	if t.ControlPlane.OrganizationID != "" {
		ps.reader = newOutputReader(stack, t, r.Region)
	}
	if t.InterRegion == topology.TGW {
		stack.AddStackDependency(props.Hub.Stack, jsii.String("the hub gateway must exist before attachments and peerings"))
	}
	ps.link = linkToCluster(stack, t, r, p.Vpc(), props.Hub)
	ps.Monitor = newMonitor(stack, t, r, p, ps.link)
	return ps
}

// newMonitor creates the region's alarms and dashboard.
func newMonitor(stack awscdk.Stack, t *topology.Topology, r topology.Region, p *providerregion.ProviderRegion, link clusterLink) *linkmonitor.LinkMonitor {
	m := t.Monitoring
	var tgs []linkmonitor.TargetGroup
	for i, port := range p.ListenerPorts() {
		tgs = append(tgs, linkmonitor.TargetGroup{Port: port, Group: p.TargetGroups()[i]})
	}
	props := &linkmonitor.Props{
		Name:             *stack.StackName(),
		LoadBalancer:     p.LoadBalancer(),
		TargetGroups:     tgs,
		ServiceID:        p.ServiceID(),
		AutoScalingGroup: p.Fleet().AutoScalingGroup(),
		InstanceType:     t.Proxy.InstanceType,
		MinCapacity:      t.Proxy.Min(),
		Thresholds: linkmonitor.Thresholds{
			MinHealthyHosts:   derefInt(m.MinHealthyHosts),
			TargetResets:      derefInt(m.TargetResets),
			CPUPercent:        derefInt(m.CPUPercent),
			EvaluationMinutes: derefInt(m.EvaluationMinutes),
			UpstreamErrors:    derefInt(m.UpstreamErrors),
			NetworkPercent:    derefInt(m.NetworkPercent),
		},
		NetworkBaselineMbps: derefInt(m.NetworkBaselineMbps),
		AccessLogGroup:      p.Fleet().AccessLogGroup(),
		AdmissionFunction:   p.AdmissionFunction(),
	}
	for _, s := range t.Services {
		props.Services = append(props.Services, s.Name)
	}
	if link.gateway != nil && link.attachment != nil {
		props.TransitGatewayID = link.gateway.ID()
		props.TransitGatewayAttachmentID = link.attachment.Ref()
		props.TransitGatewayPeeringAttachmentID = link.peeringAttachment
	}
	if arn := m.AlarmTopicArnIn(r.Region); arn != "" {
		props.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(arn))
	}
	return linkmonitor.New(stack, "Monitor", props)
}

// fleetConsumers are the consumers the provider in region serves, as its proxies name them.
func fleetConsumers(t *topology.Topology, region string) []proxyfleet.Consumer {
	var out []proxyfleet.Consumer
	for _, c := range t.Consumers {
		if t.ProviderRegionFor(c.Region) == region {
			out = append(out, proxyfleet.Consumer{Account: c.Account, Region: c.Region, Name: c.Name})
		}
	}
	return out
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Routes turns the topology's services into proxy routes.
func Routes(t *topology.Topology) []proxyfleet.Route {
	out := make([]proxyfleet.Route, 0, len(t.Services))
	for _, s := range t.Services {
		out = append(out, proxyfleet.Route{
			Name:         s.Name,
			Host:         s.Host(t.Domain),
			Port:         s.Port,
			Upstream:     s.Upstream,
			UpstreamPort: s.UpstreamPort,
			GRPC:         s.Protocol == topology.ProtocolGRPC,
			UpstreamTLS:  s.UpstreamTLS,
		})
	}
	return out
}
