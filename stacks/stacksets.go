package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/constructs/stackset"
	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/internal/assembly"
	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/internal/netutil"
	"github.com/obslink/obslink/topology"
)

// Parameters of the StackSets' consumer template: each names the SSM
// parameter (in the member account and region) that holds a property of the
// account's VPC; each StackSet sets them to its groups' names.
const (
	ParamVpcID     = deployment.ParamVpcID
	ParamSubnetIDs = deployment.ParamSubnetIDs
	ParamVpcCidr   = deployment.ParamVpcCidr
)

// ServiceNameParam is the consumer template's parameter that carries the
// endpoint service name of the provider in region.
func ServiceNameParam(region string) string { return "ServiceName" + netutil.IDPart(region) }

// StackSetStackName is the name of the stack that holds the consumers'
// StackSets, and of the StackSet of the named consumers.
func StackSetStackName(t *topology.Topology) string { return deployment.StackSetStackName(t) }

// GroupStackSetName is the name of the StackSet of the consumer groups of
// the first vpcParameters set (deployment.Resolve names the others).
func GroupStackSetName(t *topology.Topology) string { return deployment.GroupStackSetName(t) }

// OrgReaderRoleName is the role in the StackSet administrator's account
// through which the providers' admission functions read AWS Organizations.
func OrgReaderRoleName(t *topology.Topology) string { return t.Name + "-org-reader" }

// AdmitRoleName is the role of the admission function of the provider in region.
func AdmitRoleName(t *topology.Topology, region string) string { return t.Name + "-admit-" + region }

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

// StackSetStack holds the service-managed StackSets whose stack instances
// are the consumers (consumerDeployment: stacksets), the named consumers'
// and the consumer groups', and the organization reader role
// (<name>-org-reader), in the StackSet administrator's account and the main
// region.
type StackSetStack struct {
	awscdk.Stack
	// StackSet holds the named consumers, nil without any.
	StackSet *stackset.StackSet
	// Groups holds the consumer groups' StackSets, one per distinct
	// vpcParameters set, in the model's order; empty without groups.
	Groups []*stackset.StackSet
	// Template is the consumers' template (plain CloudFormation JSON).
	Template string
}

// NewStackSetStack creates the StackSet stack: the consumer template from
// ConsumerTemplate, each provider's service name as a StackSet parameter
// (read across accounts and regions like a consumer stack reads it), the
// StackSets the deployment model resolves (the named consumers', one
// instance group per region targeted within the organization root with
// AccountFilterType INTERSECTION; and one per vpcParameters set of the
// consumer groups, whose SSM names are the StackSet's own parameters) and,
// with consumer groups, the organization reader role.
func NewStackSetStack(scope constructs.Construct, id string, t *topology.Topology, d *deployment.Deployment, providers map[string]*ProviderStack, template string) *StackSetStack {
	cp := t.ControlPlane
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cp.StackSetAccount()), Region: jsii.String(cp.Region)},
		Description: jsii.String("obslink consumers as a StackSet (topology " + t.Name + ")"),
		Tags:        &map[string]*string{"obslink:topology": jsii.String(t.Name)},
	})
	serviceNames := map[string]*string{}
	for _, region := range sortedKeys(providers) {
		prov := providers[region]
		svcID := prov.Read(stack, prov.Endpoint().ServiceID(), "EndpointServiceId")
		serviceNames[ServiceNameParam(region)] = awscdk.Fn_Join(jsii.String(""), jsii.Strings("com.amazonaws.vpce."+region+".", *svcID))
		stack.AddStackDependency(prov.Stack, jsii.String("the endpoint service must exist before the stack instances' endpoints"))
	}
	out := &StackSetStack{Stack: stack, Template: template}
	for _, ds := range d.StackSets {
		params := map[string]*string{}
		for k, v := range serviceNames {
			params[k] = v
		}
		for k, v := range ds.Parameters.Values() {
			params[k] = jsii.String(v)
		}
		var instances []*stackset.Targets
		for _, in := range ds.Instances {
			instances = append(instances, &stackset.Targets{
				OrganizationalUnitIDs: strs(in.OrganizationalUnitIDs),
				Accounts:              strs(in.Accounts),
				AccountFilterType:     str(in.Filter),
				Regions:               strs(in.Regions),
			})
		}
		p := stackset.Props{
			StackSetName:               jsii.String(ds.Name),
			CallAs:                     str(cp.CallAs()),
			TemplateBody:               jsii.String(template),
			Parameters:                 &params,
			Instances:                  &instances,
			AutoDeployment:             jsii.Bool(ds.AutoDeployment),
			RegionConcurrency:          str(ds.Preferences.RegionConcurrency),
			ConcurrencyMode:            str(ds.Preferences.ConcurrencyMode),
			MaxConcurrentPercentage:    num(ds.Preferences.MaxConcurrentPercentage),
			FailureTolerancePercentage: jsii.Number(float64(ds.Preferences.FailureTolerancePercentage)),
		}
		if ds.Groups == nil {
			p.Description = jsii.String("obslink: interface endpoint, security group and private zone in each named consumer's VPC (topology " + t.Name + ")")
			out.StackSet = stackset.New(stack, jsii.String(ds.ID), &p)
			continue
		}
		p.Description = jsii.String("obslink: interface endpoint, security group and private zone in the VPC of every account of the OUs of consumer groups " + strings.Join(ds.Groups, ", ") + " (topology " + t.Name + ")")
		set := stackset.New(stack, jsii.String(ds.ID), &p)
		if len(out.Groups) > 0 && ds.Name != deployment.GroupStackSetName(t) && out.Groups[0].Name() == deployment.GroupStackSetName(t) {
			// A group that moves here from the default names' StackSet
			// loses its instances there first: two private zones of one
			// name cannot be associated with one VPC.
			set.Resource().AddResourceDependency(out.Groups[0].Resource(), jsii.String("a group moving out of the default names' StackSet loses its instances there first"))
		}
		out.Groups = append(out.Groups, set)
	}
	if len(d.Groups) > 0 {
		newOrgReader(stack, t, providers)
	}
	return out
}

// newOrgReader creates the role through which the providers' admission
// functions read AWS Organizations.
func newOrgReader(stack awscdk.Stack, t *topology.Topology, providers map[string]*ProviderStack) {
	// Admission by OU reads the organization from here (a delegated
	// administrator may call its read-only APIs): only the admission roles
	// of the providers that serve groups may assume this role.
	// Trusted by ARN condition, not by role principal: IAM binds a role
	// principal to the role's unique id (a re-created admission role would
	// lose access) and refuses one that does not exist yet.
	partition := *awscdk.Aws_PARTITION()
	var admitters []string
	for _, region := range sortedKeys(providers) {
		if len(t.GroupsServedBy(region)) > 0 {
			admitters = append(admitters, *awscdk.Fn_Join(jsii.String(""), jsii.Strings(
				"arn:", partition, ":iam::"+t.ControlPlane.ProviderAccountID()+":role/"+AdmitRoleName(t, region))))
		}
	}
	role := awsiam.NewRole(stack, jsii.String("OrgReader"), &awsiam.RoleProps{
		RoleName: jsii.String(OrgReaderRoleName(t)),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(t.ControlPlane.ProviderAccountID())).WithConditions(&map[string]any{
			"ArnEquals": map[string]any{"aws:PrincipalArn": admitters},
		}),
		Description: jsii.String("obslink: lets the providers' admission functions list the accounts under the consumer groups' OUs"),
	})
	org := t.ControlPlane.OrganizationID
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"),
		Resources: jsii.Strings(
			*awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", partition, ":organizations::*:ou/"+org+"/*"))),
	}))
	nag.Suppress(role, "AwsSolutions-IAM5",
		"The management account's id is part of an Organizations ARN and unknown to obslink; the statement names this organization's OUs, for two read-only list actions.",
		"Resource::arn:<AWS::Partition>:organizations::*:ou/"+org+"/*")
}

// ConsumerTemplate renders the StackSets' consumer template: ConsumerVpc
// (endpoint, security group, private zone and records) in the VPC that the
// SSM parameters named by VpcId, SubnetIds and VpcCidr hold, with the endpoint
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
	// Each account's baseline writes its VPC into SSM; these parameters name
	// them. (Per-account parameter overrides are not an option: the StackSet
	// resource takes one parameter set per OU, and named accounts share the
	// organization root.)
	vpcID := param(ParamVpcID, "AWS::SSM::Parameter::Value<AWS::EC2::VPC::Id>", "SSM parameter holding the consumer VPC's id")
	subnets := param(ParamSubnetIDs, "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>", "SSM parameter holding the endpoint's subnet ids, one per zone")
	cidr := param(ParamVpcCidr, "AWS::SSM::Parameter::Value<String>", "SSM parameter holding the VPC's CIDR")
	id, sn, c := topology.VPCParameters{}.Names()
	vpcID.SetDefault(jsii.String(id))
	subnets.SetDefault(jsii.String(sn))
	cidr.SetDefault(jsii.String(c))

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
	cv := consumervpc.New(stack, jsii.String("Consumer"), &consumervpc.Props{
		Vpc: vpc, ServiceName: serviceName, ServiceRegion: str(serviceRegion), Domain: str(t.Domain), Services: consumerServices(t),
	})
	cv.Endpoint().Node().DefaultChild().(awsec2.CfnVPCEndpoint).AddPropertyOverride(jsii.String("SubnetIds"), subnets.ValueAsList())

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
