package constructstest_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/consumervpc"
)

// TestAgentsReachTheServiceByName is a test of a team's stack as an app
// that uses the constructs writes it: GIVEN a stack with a ConsumerVpc,
// WHEN it is synthesized, THEN the template has the endpoint and the
// private zone's names (aws-cdk's matchers), and the plain JSON answers
// what a matcher cannot.
func TestAgentsReachTheServiceByName(t *testing.T) {
	stack := constructstest.Stack("222222222222", "eu-west-1")
	consumervpc.New(stack, jsii.String("Obslink"), &consumervpc.Props{
		Cidr: jsii.String("10.50.0.0/16"), AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		ServiceName: jsii.String("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"),
		Domain:      jsii.String("observability.internal"),
		Services:    &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}, {Name: jsii.String("logs"), Port: jsii.Number(80)}},
	})

	tpl := constructstest.Synth(t, stack)

	constructstest.Check(t, "one interface endpoint", func() {
		tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), assertions.Match_ObjectLike(&map[string]any{
			"VpcEndpointType": "Interface", "PrivateDnsEnabled": false,
		}))
	})
	names := map[string]bool{}
	for _, r := range tpl.Resources("AWS::Route53::RecordSet") {
		names[r["Properties"].(map[string]any)["Name"].(string)] = true
	}
	assert.Equal(t, map[string]bool{"metrics.observability.internal.": true, "logs.observability.internal.": true}, names)
	assert.Equal(t, "observability.internal.", tpl.Props(t, "AWS::Route53::HostedZone")["Name"])
}

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestCheckReportsAFailedMatchAndGoesOn: a failed aws-cdk assertion (a
// panic from jsii) becomes one error named after the check, and the test
// goes on to the next check.
func TestCheckReportsAFailedMatchAndGoesOn(t *testing.T) {
	stack := constructstest.Stack("222222222222", "eu-west-1")
	consumervpc.New(stack, jsii.String("Obslink"), &consumervpc.Props{
		Cidr: jsii.String("10.50.0.0/16"), AvailabilityZones: jsii.Strings("eu-west-1a"),
		ServiceName: jsii.String("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"),
		Domain:      jsii.String("observability.internal"), Services: &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}},
	})
	tpl := constructstest.Synth(t, stack)
	rec := &recorder{TB: t}
	constructstest.Check(rec, "two endpoints", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(2)) })
	constructstest.Check(rec, "one endpoint", func() { tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(1)) })
	if assert.Len(t, rec.errors, 1) {
		assert.Contains(t, rec.errors[0], "two endpoints: ")
		assert.Contains(t, rec.errors[0], "Expected 2 resources of type AWS::EC2::VPCEndpoint but found 1")
	}
}
