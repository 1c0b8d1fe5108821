// Package inline builds the small Lambda functions obslink's custom
// resources run: Python handlers from assets/, shipped inline in the
// template (no file assets), with their own log group.
package inline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/assets"
	"github.com/obslink/obslink/internal/nag"
)

// MaxInlineCode is CloudFormation's limit on a function's inline code (ZipFile).
const MaxInlineCode = 4096

// PythonFunction creates <id>Logs (90 days) and <id>Function running the
// handler in assets/<asset> (index.handler) inline, on Python 3.14, with
// role if given (else CDK's). It panics if the file is missing or too large
// to inline. The caller adds the function's permissions.
func PythonFunction(scope constructs.Construct, id, asset, description string, timeout awscdk.Duration, role ...awsiam.IRole) awslambda.Function {
	code, err := assets.FS.ReadFile(asset)
	if err != nil {
		panic(err)
	}
	if len(code) >= MaxInlineCode {
		panic(fmt.Sprintf("inline.PythonFunction(%q): %s is %d bytes; inline code must stay under %d", id, asset, len(code), MaxInlineCode))
	}
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	fn := awslambda.NewFunction(scope, jsii.String(id+"Function"), &awslambda.FunctionProps{
		Runtime:     awslambda.Runtime_PYTHON_3_14(),
		Handler:     jsii.String("index.handler"),
		Code:        awslambda.Code_FromInline(jsii.String(string(code))),
		Timeout:     timeout,
		MemorySize:  jsii.Number(128),
		LogGroup:    logs,
		Description: jsii.String(description),
		Role:        firstRole(role),
	})
	nag.Suppress(fn, "AwsSolutions-L1",
		"python3.14 is the newest runtime the CloudFormation resource schema (cfn-lint 1.51) accepts; aws-cdk-lib also lists python3.15, which cannot be verified here. The handler needs only the standard library and boto3.")
	nag.Suppress(fn, "AwsSolutions-IAM4",
		"AWSLambdaBasicExecutionRole only lets the function write its own logs.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	return fn
}

func firstRole(roles []awsiam.IRole) awsiam.IRole {
	if len(roles) == 0 {
		return nil
	}
	return roles[0]
}
