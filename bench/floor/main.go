// Command floor synthesizes a CDK app with one (almost) empty stack: the fixed cost of
// starting jsii and aws-cdk-lib that every obslink synth pays, measured next
// to it by bench/synthbench.
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.Args[1]), AnalyticsReporting: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("Floor"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	// One resource-free handle, so the template is valid (CloudFormation rejects an empty one).
	awscdk.NewCfnWaitConditionHandle(stack, jsii.String("Handle"), nil)
	app.Synth(nil)
}
