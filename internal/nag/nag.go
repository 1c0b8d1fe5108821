// Package nag records cdk-nag suppressions next to the resources they are
// about, each with the reason a security reviewer reads. It writes the
// metadata cdk-nag reads (Metadata.cdk_nag.rules_to_suppress of each
// CloudFormation resource, as cdk-nag's NagSuppressions writes it) without
// importing cdk-nag: an app that runs cdk-nag's checks gets the
// suppressions, an app that does not has no cdk-nag in its build.
package nag

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// metadataKey is the resource metadata cdk-nag reads its suppressions from.
const metadataKey = "cdk_nag"

// Suppress silences rule on every CloudFormation resource of c (c and its
// children) for reason; appliesTo narrows it to findings such as
// "Policy::arn:<AWS::Partition>:iam::aws:policy/X". Like cdk-nag's
// NagSuppressions.addResourceSuppressions(c, ..., applyToChildren), it adds
// to the suppressions a resource has, once each.
func Suppress(c constructs.IConstruct, rule, reason string, appliesTo ...string) {
	s := map[string]any{"id": rule, "reason": reason}
	if len(appliesTo) > 0 {
		s["applies_to"] = appliesTo
	}
	key := canonical(s)
	for _, n := range *c.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		r, ok := n.(awscdk.CfnResource)
		if !ok {
			continue
		}
		var rules []any
		if m, ok := r.GetMetadata(jsii.String(metadataKey)).(map[string]any); ok {
			rules, _ = m["rules_to_suppress"].([]any)
		}
		if !contains(rules, key) {
			r.AddMetadata(jsii.String(metadataKey), map[string]any{"rules_to_suppress": append(rules, s)})
		}
	}
}

// contains reports whether a suppression of rules is key (cdk-nag too
// compares them as JSON).
func contains(rules []any, key string) bool {
	for _, r := range rules {
		if canonical(r) == key {
			return true
		}
	}
	return false
}

// canonical is v as JSON, its keys sorted.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, lists and maps of them only
	}
	return string(b)
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
