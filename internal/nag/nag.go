// Package nag records cdk-nag suppressions next to the resources they are
// about, each with the reason a security reviewer reads.
package nag

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppress silences rule on c (and its children) for reason; appliesTo narrows
// it to findings such as "Policy::arn:<AWS::Partition>:iam::aws:policy/X".
func Suppress(c constructs.IConstruct, rule, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]any, len(appliesTo))
		for i, v := range appliesTo {
			a[i] = v
		}
		s.AppliesTo = &a
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// awsCustomResourceFunction is the construct id of the singleton function
// behind every AwsCustomResource of a stack, at the stack's root.
const awsCustomResourceFunction = "AWS679f53fac002430cb0da5b7982bd2287"

// SuppressAwsCustomResourceFunction records, on the singleton function that
// runs a stack's AwsCustomResources, why its managed policy is acceptable.
// Call it after creating an AwsCustomResource.
func SuppressAwsCustomResourceFunction(stack constructs.IConstruct) {
	if fn := stack.Node().TryFindChild(jsii.String(awsCustomResourceFunction)); fn != nil {
		Suppress(fn, "AwsSolutions-IAM4",
			"AWSLambdaBasicExecutionRole only lets the lookup function write its own logs.",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	}
}
