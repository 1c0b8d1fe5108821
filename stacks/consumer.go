package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/topology"
)

// ConsumerStackProps configures a ConsumerStack.
type ConsumerStackProps struct {
	awscdk.StackProps
	// Topology the stack belongs to (validated, defaults applied).
	Topology *topology.Topology
	// Consumer is the entry this stack builds.
	Consumer topology.Consumer
	// Provider is the stack of the region that serves this consumer.
	Provider *ProviderStack
}

// ConsumerStack holds the ConsumerVpc of one consumer, in its own account and region.
type ConsumerStack struct {
	awscdk.Stack
	Consumer *consumervpc.ConsumerVpc
	// Weak reports whether the service name crosses accounts or regions as a
	// weak reference (Fn::GetStackOutput) rather than an export/import.
	Weak bool
}

// NewConsumerStack creates the stack of one consumer.
func NewConsumerStack(scope constructs.Construct, id string, props *ConsumerStackProps) *ConsumerStack {
	t, c, prov := props.Topology, props.Consumer, props.Provider
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cs := &ConsumerStack{Stack: stack}
	env := envOf(stack, &props.StackProps)

	var vpc awsec2.IVpc
	if c.VPC.Existing() {
		vpc = awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId:             jsii.String(c.VPC.ID),
			VpcCidrBlock:      jsii.String(c.VPC.CIDR),
			AvailabilityZones: jsii.Strings(c.VPC.AvailabilityZones...),
			PrivateSubnetIds:  jsii.Strings(c.VPC.SubnetIDs...),
		})
		// obslink adds no routes to a consumer VPC (one-way traffic), so it never needs the route tables.
		awscdk.Annotations_Of(vpc).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ec2:noSubnetRouteTableId"),
			jsii.String("obslink adds no routes in consumer VPCs"))
	}

	var serviceName *string
	if prov.env.account == env.account && prov.env.region == env.region {
		serviceName = prov.Endpoint().ServiceName()
	} else {
		// A strong reference cannot cross accounts or regions; the service name is
		// a concatenation, which a weak reference refuses, so reference the plain
		// id and rebuild the name around it.
		cs.Weak = true
		serviceName = prov.serviceNameFor(env)
	}
	var serviceRegion string
	if prov.env.region != c.Region {
		serviceRegion = prov.env.region
	}

	services := consumerServices(t)
	var associated []awsec2.IVpc
	for _, id := range c.AssociatedVPCIDs {
		associated = append(associated, awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Associated"+id), &awsec2.VpcAttributes{
			VpcId:             jsii.String(id),
			AvailabilityZones: jsii.Strings(c.VPC.AvailabilityZones...),
		}))
	}
	cs.Consumer = consumervpc.New(stack, jsii.String("Consumer"), &consumervpc.Props{
		Vpc:               vpc,
		Cidr:              str(c.VPC.CIDR),
		AvailabilityZones: strs(c.VPC.AvailabilityZones),
		ServiceName:       serviceName,
		ServiceRegion:     str(serviceRegion),
		Domain:            str(t.Domain),
		Services:          services,
		AllowedCidrs:      strs(c.AllowedCIDRs),
		AssociatedVpcs:    &associated,
	})
	// The provider must admit this consumer: a principal list that drifts from
	// the topology fails synthesis instead of failing the deploy of the endpoint.
	prov.admit(c)
	stack.AddStackDependency(prov.Stack, jsii.String("the endpoint service must exist before the endpoint"))
	return cs
}

// serviceNameFor is the endpoint service's name as a consumer in env reads
// it: com.amazonaws.vpce.<region>.<id>, the id read from this stack. With
// an organization, every consumer in another account gets the same token,
// and every one in this account (another region) the same.
func (p *ProviderStack) serviceNameFor(env stackEnv) *string {
	crossAccount := env.account != p.env.account
	if name, ok := p.serviceNames[crossAccount]; ok {
		return name
	}
	id := p.read(env.account, env.region, p.Endpoint().ServiceID(), "EndpointServiceId")
	name := awscdk.Fn_Join(jsii.String(""), jsii.Strings("com.amazonaws.vpce."+p.env.region+".", *id))
	if p.reader != nil { // the id is one token per account kind: so is the name
		p.serviceNames[crossAccount] = name
	}
	return name
}

// admit records that c reads this provider's endpoint service; the first
// consumer adds the check to the provider stack.
func (p *ProviderStack) admit(c topology.Consumer) {
	if p.admits == nil {
		p.admits = &admitted{provider: p}
		p.Node().AddValidation(p.admits)
	}
	p.admits.consumers = append(p.admits.consumers, c)
}

// admitted checks, once the tree is built, that the provider lists the
// account of each of its consumers as an allowed principal and, across
// regions, its region as a supported region.
type admitted struct {
	consumers []topology.Consumer
	provider  *ProviderStack
}

func (a *admitted) Validate() *[]*string {
	var errs []*string
	p := a.provider.Endpoint()
	allowed, supported := p.AllowedAccounts(), p.SupportedRegions()
	region := a.provider.env.region
	for _, c := range a.consumers {
		if !contains(allowed, c.Account) {
			errs = append(errs, jsii.String(fmt.Sprintf("consumer %s: account %s is not an allowed principal of the endpoint service in %s (allowed: %v); the provider's principals must come from the topology's consumers",
				c.Name, c.Account, region, allowed)))
		}
		if region != c.Region && !contains(supported, c.Region) {
			errs = append(errs, jsii.String(fmt.Sprintf("consumer %s: region %s is not a supported region of the endpoint service in %s (supported: %v)",
				c.Name, c.Region, region, supported)))
		}
	}
	return &errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// consumerServices are the topology's services as a consumer's names and ports.
func consumerServices(t *topology.Topology) *[]*consumervpc.Service {
	out := make([]*consumervpc.Service, 0, len(t.Services))
	for _, s := range t.Services {
		out = append(out, &consumervpc.Service{Name: jsii.String(s.Name), Port: jsii.Number(float64(s.Port))})
	}
	return &out
}
