// Package constructstest holds the helpers obslink's construct tests use,
// for tests of apps that use the constructs: a stack in an environment,
// the synthesized template (aws-cdk's assertions.Template, and the plain
// JSON for what a matcher cannot say, such as decoded user data), and a
// way to report a failed assertion without ending the test binary.
package constructstest

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Check runs f and turns a failed CDK assertion (a jsii panic) into a test
// error named what, so one failed match does not end the test binary.
func Check(t testing.TB, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// Template is a synthesized stack: the assertions API and the plain JSON.
type Template struct {
	assertions.Template
	JSON map[string]any
}

// Synth synthesizes stack for assertions.
func Synth(t testing.TB, stack awscdk.Stack) Template {
	t.Helper()
	tpl := assertions.Template_FromStack(stack, nil)
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	return Template{Template: tpl, JSON: j}
}

// Resources returns the resources of one type, by logical id.
func (tp Template) Resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tp.JSON["Resources"].(map[string]any)
	for id, r := range res {
		if m := r.(map[string]any); m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

// Props returns the Properties of the only resource of type typ, failing t otherwise.
func (tp Template) Props(t testing.TB, typ string) map[string]any {
	t.Helper()
	rs := tp.Resources(typ)
	if len(rs) != 1 {
		t.Fatalf("want one %s, have %d", typ, len(rs))
	}
	for _, r := range rs {
		p, _ := r["Properties"].(map[string]any)
		return p
	}
	return nil
}

// Stack returns a stack in a new app with an explicit environment.
func Stack(account, region string) awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
	return awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
	})
}
