package nag_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/internal/nag"
)

const (
	ssmPolicy = "Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"
	reason    = "Session Manager is the only way in; the policy grants no data access."
)

// role is an instance role with an AWS managed policy: cdk-nag's
// AwsSolutions-IAM4 finding.
func role(stack awscdk.Stack, id string) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore"))},
	})
}

// TestCdkNagReadsTheSuppressions: cdk-nag's own checks, run as an app
// runs them, find the role without a suppression and accept the one
// Suppress recorded.
func TestCdkNagReadsTheSuppressions(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	role(stack, "Plain")
	nag.Suppress(role(stack, "Suppressed"), "AwsSolutions-IAM4", reason, ssmPolicy)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false)}), nil)

	annotations := assertions.Annotations_FromStack(stack)
	iam4 := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-IAM4"))
	constructstest.Check(t, "the role without a suppression is a finding", func() {
		annotations.HasError(jsii.String("/Stack/Plain/Resource"), iam4)
	})
	constructstest.Check(t, "the suppressed role is none", func() {
		annotations.HasNoError(jsii.String("/Stack/Suppressed/Resource"), iam4)
	})
}

// TestSuppressWritesWhatNagSuppressionsWrites: the metadata equals
// cdk-nag's NagSuppressions' for the same calls (once each, added to what
// is there), but for the order of the keys in the template.
func TestSuppressWritesWhatNagSuppressionsWrites(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	ours, theirs := role(stack, "Ours"), role(stack, "Theirs")
	nag.Suppress(ours, "AwsSolutions-IAM4", reason, ssmPolicy)
	nag.Suppress(ours, "AwsSolutions-IAM4", reason, ssmPolicy)
	nag.Suppress(ours, "AwsSolutions-IAM5", "Log streams are named after instance ids, known only at launch.")
	for range 2 {
		cdknag.NagSuppressions_AddResourceSuppressions(theirs, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String(reason), AppliesTo: &[]any{ssmPolicy},
		}}, jsii.Bool(true))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(theirs, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("Log streams are named after instance ids, known only at launch."),
	}}, jsii.Bool(true))

	metadata := func(r awsiam.Role) any {
		return r.Node().DefaultChild().(awscdk.CfnResource).GetMetadata(jsii.String("cdk_nag"))
	}
	require.NotNil(t, metadata(ours))
	assert.Equal(t, metadata(theirs), metadata(ours))
	assert.Len(t, metadata(ours).(map[string]any)["rules_to_suppress"], 2)
}
