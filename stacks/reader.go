package stacks

import (
	"regexp"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/topology"
)

// OutputReaderRoleName is the role through which the provider in region
// publishes its outputs to stacks of other accounts and regions, when the
// topology names an organization: <name>-reader-<region>.
func OutputReaderRoleName(t *topology.Topology, region string) string {
	return t.Name + "-reader-" + region
}

// newOutputReader creates the provider's output-reader role: any
// CloudFormation execution role (CDK bootstrap, default qualifier) of an
// account in the organization may assume it, and it may describe this stack
// only. Its trust policy has the same size for 3 consumers or 3,000, names
// no principal that must exist, and survives a consumer's re-bootstrap.
func newOutputReader(stack awscdk.Stack, t *topology.Topology, region string) awsiam.Role {
	partition := *awscdk.Aws_PARTITION()
	role := awsiam.NewRole(stack, jsii.String("OutputReader"), &awsiam.RoleProps{
		RoleName: jsii.String(OutputReaderRoleName(t, region)),
		AssumedBy: awsiam.NewAnyPrincipal().WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:PrincipalOrgID": t.ControlPlane.OrganizationID},
			"ArnLike": map[string]any{"aws:PrincipalArn": awscdk.Fn_Join(jsii.String(""), jsii.Strings(
				"arn:", partition, ":iam::*:role/cdk-"+topology.BootstrapQualifier+"-cfn-exec-role-*"))},
		}),
		Description: jsii.String("obslink: lets CloudFormation in the organization's accounts read the outputs of " + *stack.StackName()),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("cloudformation:DescribeStacks"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", partition, ":cloudformation:"+region+":"+*stack.Account()+":stack/"+*stack.StackName()+"/*"))),
	}))
	nag.Suppress(role, "AwsSolutions-IAM5",
		"A stack ARN ends in a stack id that is known only after the stack exists; the statement names this stack only.",
		"Resource::arn:<AWS::Partition>:cloudformation:"+region+":"+*stack.Account()+":stack/"+*stack.StackName()+"/*")
	return role
}

var reNonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)

// Read passes value, an attribute of a resource in the provider stack, to
// the reader stack: as a plain reference in the provider's own account and
// region; when the topology names an organization, as an output named
// output read with Fn::GetStackOutput, through the provider's output-reader
// role from another account, with the reader's own execution role from the
// same account; else as CDK's weak reference, whose role trusts each reading
// account's execution role by name.
func (p *ProviderStack) Read(reader awscdk.Stack, value *string, output string) *string {
	return p.read(*reader.Account(), *reader.Region(), value, output)
}

// read is Read for a reader in account and region. Every reader of one
// output across accounts gets the same token: the provider builds it once.
func (p *ProviderStack) read(account, region string, value *string, output string) *string {
	if account == p.env.account && region == p.env.region {
		return value
	}
	if p.reader == nil {
		return awscdk.Stack_ConsumeReference(value, awscdk.ReferenceStrength_WEAK)
	}
	output = reNonAlnum.ReplaceAllString(output, "")
	crossAccount := account != p.env.account
	key := output + "/" + strconv.FormatBool(crossAccount)
	if ref, ok := p.reads[key]; ok {
		return ref
	}
	if !p.outputs[output] && p.Node().TryFindChild(jsii.String(output)) == nil {
		awscdk.NewCfnOutput(p.Stack, jsii.String(output), &awscdk.CfnOutputProps{Value: value})
	}
	p.outputs[output] = true
	ref := map[string]any{"StackName": p.env.name, "OutputName": output, "Region": p.env.region}
	if crossAccount {
		ref["RoleArn"] = awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", *awscdk.Aws_PARTITION(), ":iam::"+p.env.account+":role/"+OutputReaderRoleName(p.topology, p.env.region)))
	}
	p.reads[key] = awscdk.Token_AsString(map[string]any{"Fn::GetStackOutput": ref}, nil)
	return p.reads[key]
}
