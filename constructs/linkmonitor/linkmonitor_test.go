package linkmonitor_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
)

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// region builds a ProviderRegion and its monitor with props' thresholds and
// instance type, notifying topicArn unless it is "".
func region(t *testing.T, props linkmonitor.Props, topicArn string) constructstest.Template {
	t.Helper()
	stack := constructstest.Stack("111111111111", "eu-west-1")
	if topicArn != "" {
		props.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("Topic"), jsii.String(topicArn))
	}
	r := providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{
		Cidr: jsii.String("10.100.0.0/24"), AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		Routes: &[]*proxyfleet.Route{
			{Name: jsii.String("metrics"), Host: jsii.String("metrics.o.internal"), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)},
			{Name: jsii.String("traces"), Host: jsii.String("traces.o.internal"), Port: jsii.Number(4317), Upstream: jsii.String("t.elb.amazonaws.com"), UpstreamPort: jsii.Number(443), GRPC: jsii.Bool(true), UpstreamTLS: jsii.Bool(true)},
		},
		UpstreamCidrs: jsii.Strings("10.0.0.0/16"),
		Fleet:         &proxyfleet.Props{InstanceType: props.InstanceType},
	})
	props.Name = jsii.String("test")
	props.LoadBalancer = r.LoadBalancer()
	props.ServiceID = r.ServiceID()
	props.AutoScalingGroup = r.Fleet().AutoScalingGroup()
	props.MinCapacity = jsii.Number(2)
	var groups []*linkmonitor.TargetGroup
	for i, tg := range r.TargetGroups() {
		groups = append(groups, &linkmonitor.TargetGroup{Port: jsii.Number(float64([]int{80, 4317}[i])), Group: tg})
	}
	props.TargetGroups = &groups
	linkmonitor.New(stack, jsii.String("Monitor"), &props)
	return constructstest.Synth(t, stack)
}

func alarms(tpl constructstest.Template) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		p := a["Properties"].(map[string]any)
		out[p["AlarmName"].(string)] = p
	}
	return out
}

func TestAlarmsAndDefaults(t *testing.T) {
	tpl := region(t, linkmonitor.Props{InstanceType: jsii.String("t4g.small")}, "")
	got := alarms(tpl)
	names := []string{}
	for n := range got {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"test-HealthyHosts80", "test-UnhealthyHosts80", "test-HealthyHosts4317", "test-UnhealthyHosts4317",
		"test-TargetResets", "test-InService", "test-Cpu", "test-NetworkBaseline"}, names)
	net := got["test-NetworkBaseline"]
	assert.EqualValues(t, 102.4, net["Threshold"], "80 %% of t4g.small's 128 Mbps baseline")
	assert.EqualValues(t, 3, net["EvaluationPeriods"])
	assert.Contains(t, js(net["Metrics"]), `"Expression":"IF(netin \u003e netout, netin, netout) * 8 / PERIOD(netin) / 1000000"`)
	assert.Contains(t, js(net["Metrics"]), `"MetricName":"NetworkOut"`)
	assert.Contains(t, js(net["Metrics"]), `"Stat":"Maximum"`, "the busiest proxy, not the group's sum or average")
	assert.EqualValues(t, 80, got["test-Cpu"]["Threshold"], "above the scaling target")
	assert.EqualValues(t, 3, got["test-Cpu"]["EvaluationPeriods"], "three 5-minute periods: EC2 publishes CPU every 5 minutes")
	assert.Contains(t, js(got["test-Cpu"]["Metrics"]), `"Period":300`)
	assert.EqualValues(t, 1, got["test-HealthyHosts80"]["Threshold"])
	assert.Equal(t, "breaching", got["test-HealthyHosts80"]["TreatMissingData"], "no data from a target group is no healthy proxy")
	assert.EqualValues(t, 2, got["test-InService"]["Threshold"], "minCapacity")
	assert.EqualValues(t, 100, got["test-TargetResets"]["Threshold"])
	for n, a := range got {
		assert.Nil(t, a["AlarmActions"], "%s: no topic, no actions", n)
	}
	require.Len(t, tpl.Resources("AWS::CloudWatch::Dashboard"), 1)
	for _, d := range tpl.Resources("AWS::CloudWatch::Dashboard") {
		body := js(d["Properties"])
		assert.Contains(t, body, "Bytes per consumer endpoint (PrivateLink)")
		assert.Contains(t, js(d["Properties"].(map[string]any)["DashboardName"]), "test")
	}
}

func TestThresholdsAndTopic(t *testing.T) {
	stackTopic := func() linkmonitor.Props {
		return linkmonitor.Props{InstanceType: jsii.String("m7g.large"), Thresholds: &linkmonitor.Thresholds{
			MinHealthyHosts: jsii.Number(2), TargetResets: jsii.Number(50), EvaluationMinutes: jsii.Number(3),
		}}
	}
	p := stackTopic()
	tpl := region(t, p, "arn:aws:sns:eu-west-1:111111111111:alarms")
	got := alarms(tpl)
	assert.EqualValues(t, 80, got["test-Cpu"]["Threshold"])
	assert.EqualValues(t, 2, got["test-Cpu"]["EvaluationPeriods"], "3 x 3 minutes, in 5-minute periods, rounded up")
	assert.EqualValues(t, 2, got["test-HealthyHosts4317"]["Threshold"])
	assert.EqualValues(t, 50, got["test-TargetResets"]["Threshold"])
	assert.EqualValues(t, 3, got["test-UnhealthyHosts80"]["EvaluationPeriods"])
	for n, a := range got {
		assert.Equal(t, `["arn:aws:sns:eu-west-1:111111111111:alarms"]`, js(a["AlarmActions"]), n)
		assert.Equal(t, `["arn:aws:sns:eu-west-1:111111111111:alarms"]`, js(a["OKActions"]), n)
	}
	assert.NotContains(t, got, "test-NetworkBaseline", "m7g.large is not in obslink's table: no network alarm without a baseline")
	p.NetworkBaselineMbps, p.Thresholds.NetworkPercent = jsii.Number(937), jsii.Number(50)
	got = alarms(region(t, p, ""))
	assert.EqualValues(t, 468.5, got["test-NetworkBaseline"]["Threshold"], "50 %% of the given 937 Mbps")
}

func TestMisuse(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.True(t, strings.Contains(fmt.Sprint(r), "props.Name is empty"), r)
	}()
	linkmonitor.New(stack, jsii.String("M"), &linkmonitor.Props{})
}
