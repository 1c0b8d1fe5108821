package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/constructs/stackset"
	"github.com/obslink/obslink/internal/assembly"
	"github.com/obslink/obslink/internal/netutil"
	"github.com/obslink/obslink/topology"
)

// Parameters of the StackSet's consumer template that each stack instance
// overrides: the consumer's existing VPC.
const (
	ParamVpcID     = "VpcId"
	ParamSubnetIDs = "SubnetIds"
	ParamVpcCidr   = "VpcCidr"
)

// ServiceNameParam is the consumer template's parameter that carries the
// endpoint service name of the provider in region.
func ServiceNameParam(region string) string { return "ServiceName" + netutil.IDPart(region) }

// StackSetStackName is the name of the stack that holds the consumers' StackSet.
func StackSetStackName(t *topology.Topology) string { return t.Name + "-consumers" }

// BuildOption changes how Build builds.
type BuildOption func(*buildOptions)

type buildOptions struct {
	templateApp func(outdir string) awscdk.App
}

// WithTemplateApp makes the App in which the StackSet's consumer template
// is synthesized (app.New passes one with its feature flags and cdk-nag
// checks, so the template meets the same rules as every stack). Default: a
// plain App.
func WithTemplateApp(f func(outdir string) awscdk.App) BuildOption {
	return func(o *buildOptions) { o.templateApp = f }
}

// StackSetStack holds the service-managed StackSet whose stack instances are
// the consumers (consumerDeployment: stacksets), in the StackSet
// administrator's account and the main region.
type StackSetStack struct {
	awscdk.Stack
	StackSet *stackset.StackSet
	// Template is the consumers' template (plain CloudFormation JSON).
	Template string
}

// NewStackSetStack creates the StackSet stack: the consumer template from
// ConsumerTemplate, each provider's service name as a StackSet parameter
// (read across accounts and regions like a consumer stack reads it), and
// one stack instance per named consumer, targeted within the organization
// root (AccountFilterType INTERSECTION), with its VPC as overrides.
func NewStackSetStack(scope constructs.Construct, id string, t *topology.Topology, providers map[string]*ProviderStack, template string) *StackSetStack {
	cp := t.ControlPlane
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cp.StackSetAccount()), Region: jsii.String(cp.Region)},
		Description: jsii.String("obslink consumers as a StackSet (topology " + t.Name + ")"),
		Tags:        &map[string]*string{"obslink:topology": jsii.String(t.Name)},
	})
	params := map[string]*string{}
	for _, region := range sortedKeys(providers) {
		prov := providers[region]
		svcID := prov.Read(stack, prov.Provider.ServiceID(), "EndpointServiceId")
		params[ServiceNameParam(region)] = awscdk.Fn_Join(jsii.String(""), jsii.Strings("com.amazonaws.vpce."+region+".", *svcID))
		stack.AddStackDependency(prov.Stack, jsii.String("the endpoint service must exist before the stack instances' endpoints"))
	}
	var instances []stackset.Targets
	for _, c := range t.Consumers {
		instances = append(instances, stackset.Targets{
			OrganizationalUnitIDs: []string{cp.OrganizationRootID},
			Accounts:              []string{c.Account},
			Regions:               []string{c.Region},
			Overrides: map[string]*string{
				ParamVpcID:     jsii.String(c.VPC.ID),
				ParamSubnetIDs: jsii.String(strings.Join(c.VPC.SubnetIDs, ",")),
				ParamVpcCidr:   jsii.String(c.VPC.CIDR),
			},
		})
	}
	s := stackset.New(stack, "Consumers", &stackset.Props{
		StackSetName:               StackSetStackName(t),
		Description:                "obslink: interface endpoint, security group and private zone in each consumer VPC (topology " + t.Name + ")",
		TemplateBody:               template,
		CallAs:                     cp.CallAs(),
		Parameters:                 params,
		Instances:                  instances,
		RegionConcurrency:          t.StackSets.Concurrency(),
		MaxConcurrentPercentage:    t.StackSets.MaxConcurrent(),
		FailureTolerancePercentage: t.StackSets.FailureTolerance(),
	})
	return &StackSetStack{Stack: stack, StackSet: s, Template: template}
}

// ConsumerTemplate renders the StackSet's consumer template: ConsumerVpc
// (endpoint, security group, private zone and records) in an existing VPC
// given by the parameters VpcId, SubnetIds and VpcCidr, with the endpoint
// service of the instance's region picked from the ServiceName<Region>
// parameters (native: the main region's, across regions). It is plain
// CloudFormation: no bootstrap parameter or rule, no assets, no metadata
// resource. newApp makes the App it is synthesized in (nil: a plain App);
// an error-level annotation (a cdk-nag finding) fails it.
func ConsumerTemplate(t *topology.Topology, newApp func(outdir string) awscdk.App) (string, error) {
	dir, err := os.MkdirTemp("", "obslink-consumer-template-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if newApp == nil {
		newApp = func(outdir string) awscdk.App {
			return awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), AnalyticsReporting: jsii.Bool(false)})
		}
	}
	a := newApp(dir)
	stack := awscdk.NewStack(a, jsii.String("ConsumerTemplate"), &awscdk.StackProps{
		Synthesizer: awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{}),
		Description: jsii.String("obslink consumer (topology " + t.Name + "): interface endpoint, security group and private zone"),
	})
	param := func(name, typ, desc string) awscdk.CfnParameter {
		return awscdk.NewCfnParameter(stack, jsii.String(name), &awscdk.CfnParameterProps{Type: jsii.String(typ), Description: jsii.String(desc)})
	}
	vpcID := param(ParamVpcID, "AWS::EC2::VPC::Id", "the consumer VPC")
	subnets := param(ParamSubnetIDs, "List<AWS::EC2::Subnet::Id>", "subnets of the interface endpoint, one per zone")
	cidr := param(ParamVpcCidr, "String", "the VPC's CIDR: agents there may reach the endpoint")
	cidr.SetAllowedPattern(jsii.String(`^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$`))

	var regions []string
	for _, r := range t.Regions {
		regions = append(regions, r.Region)
	}
	names := map[string]*string{}
	for _, r := range regions {
		names[r] = param(ServiceNameParam(r), "String", "the obslink endpoint service of "+r).ValueAsString()
	}
	// A region without a provider fails the instance at once, with this message.
	served := t.ConsumerRegionsAll()
	awscdk.NewCfnRule(stack, jsii.String("ServedRegion"), &awscdk.CfnRuleProps{Assertions: &[]*awscdk.CfnRuleAssertion{{
		Assert:            awscdk.Fn_ConditionContains(jsii.Strings(served...), awscdk.Aws_REGION()),
		AssertDescription: jsii.String("obslink serves consumers in " + strings.Join(served, ", ") + " only: add the region to the topology's regions (or use interRegion native)"),
	}}})
	var serviceName *string
	serviceRegion := ""
	if t.InterRegion == topology.Native {
		main := t.ControlPlane.Region
		serviceName = names[main]
		inMain := awscdk.NewCfnCondition(stack, jsii.String("InMainRegion"), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), main)})
		serviceRegion = *awscdk.Token_AsString(awscdk.Fn_ConditionIf(inMain.LogicalId(), awscdk.Aws_NO_VALUE(), main), nil)
	} else {
		// Fn::If chain over the provider regions; the last is the rule's fallback.
		var pick any = names[regions[len(regions)-1]]
		for i := len(regions) - 2; i >= 0; i-- {
			in := awscdk.NewCfnCondition(stack, jsii.String("In"+netutil.IDPart(regions[i])), &awscdk.CfnConditionProps{
				Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), regions[i])})
			pick = awscdk.Fn_ConditionIf(in.LogicalId(), names[regions[i]], pick)
		}
		serviceName = awscdk.Token_AsString(pick, nil)
	}

	// The subnets come from a list parameter, which CDK cannot split into
	// subnet objects: the VPC is imported with one stand-in subnet and the
	// endpoint's SubnetIds property is set to the parameter.
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:             vpcID.ValueAsString(),
		VpcCidrBlock:      cidr.ValueAsString(),
		AvailabilityZones: jsii.Strings("from-parameter"),
		PrivateSubnetIds:  jsii.Strings("from-parameter"),
	})
	awscdk.Annotations_Of(vpc).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ec2:noSubnetRouteTableId"),
		jsii.String("obslink adds no routes in consumer VPCs"))
	services := make([]consumervpc.Service, 0, len(t.Services))
	for _, s := range t.Services {
		services = append(services, consumervpc.Service{Name: s.Name, Port: s.Port})
	}
	c := consumervpc.New(stack, "Consumer", &consumervpc.Props{
		Vpc: vpc, ServiceName: serviceName, ServiceRegion: serviceRegion, Domain: t.Domain, Services: services,
	})
	c.Endpoint().Node().DefaultChild().(awsec2.CfnVPCEndpoint).AddPropertyOverride(jsii.String("SubnetIds"), subnets.ValueAsList())

	asm := a.Synth(nil)
	if err := assembly.Check(dir); err != nil {
		return "", fmt.Errorf("the StackSet's consumer template: %w", err)
	}
	b, err := json.Marshal(asm.GetStackByName(stack.StackName()).Template())
	if err != nil {
		return "", err
	}
	return string(b), nil
}
