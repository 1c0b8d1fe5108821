package test

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/internal/iamsim"
	"github.com/obslink/obslink/topology"
)

// publishedMetrics are the metrics AWS publishes for the resources obslink
// monitors, with the dimension sets each is published under (CloudWatch
// metrics pages of Network Load Balancers, PrivateLink endpoint services,
// Auto Scaling groups, EC2 and Transit Gateways). An alarm or a widget on any
// other name or dimension set would show no data, silently.
var publishedMetrics = map[string]map[string][]string{
	"AWS/NetworkELB": {
		"HealthyHostCount":       {"LoadBalancer,TargetGroup", "AvailabilityZone,LoadBalancer,TargetGroup"},
		"UnHealthyHostCount":     {"LoadBalancer,TargetGroup", "AvailabilityZone,LoadBalancer,TargetGroup"},
		"TCP_Target_Reset_Count": {"LoadBalancer", "AvailabilityZone,LoadBalancer"},
	},
	"AWS/PrivateLinkServices": {
		"ActiveConnections": {"Service Id", "Service Id,VPC Endpoint Id", "Load Balancer Arn,Service Id", "Az,Load Balancer Arn,Service Id"},
		"BytesProcessed":    {"Service Id", "Service Id,VPC Endpoint Id", "Load Balancer Arn,Service Id", "Az,Load Balancer Arn,Service Id"},
		"NewConnections":    {"Service Id", "Service Id,VPC Endpoint Id", "Load Balancer Arn,Service Id", "Az,Load Balancer Arn,Service Id"},
		"RstPacketsSent":    {"Service Id", "Service Id,VPC Endpoint Id", "Load Balancer Arn,Service Id", "Az,Load Balancer Arn,Service Id"},
		"EndpointsCount":    {"Service Id"},
	},
	"AWS/AutoScaling": {
		"GroupInServiceInstances": {"AutoScalingGroupName"},
	},
	"AWS/EC2": {
		"CPUUtilization": {"AutoScalingGroupName", "InstanceId"},
		"NetworkIn":      {"AutoScalingGroupName", "InstanceId"},
		"NetworkOut":     {"AutoScalingGroupName", "InstanceId"},
	},
	"AWS/Lambda": {
		"Errors": {"FunctionName", "FunctionName,Resource"},
	},
	"AWS/TransitGateway": {
		"BytesIn":                  {"TransitGateway", "TransitGateway,TransitGatewayAttachment"},
		"BytesOut":                 {"TransitGateway", "TransitGateway,TransitGatewayAttachment"},
		"PacketDropCountNoRoute":   {"TransitGateway", "TransitGateway,TransitGatewayAttachment"},
		"PacketDropCountBlackhole": {"TransitGateway", "TransitGateway,TransitGatewayAttachment"},
	},
}

// resolution is how often AWS publishes a namespace's data points, in
// seconds: EC2 without detailed monitoring (obslink's instances) every 5
// minutes, the others every minute. A shorter period sees missing data.
var resolution = map[string]float64{"AWS/EC2": 300}

// metricRef is one metric an alarm or widget reads.
type metricRef struct {
	where, namespace, name string
	dims                   []string
	period                 float64
}

// filterMetrics are the metrics a template's metric filters publish:
// namespace -> name -> dimension names, sorted and joined.
type filterMetrics map[string]map[string]string

func filtersOf(tpl *iamsim.Template) filterMetrics {
	out := filterMetrics{}
	for _, r := range tpl.Resources {
		if r.Type != "AWS::Logs::MetricFilter" {
			continue
		}
		for _, mt := range r.Properties["MetricTransformations"].([]any) {
			m := mt.(map[string]any)
			var dims []string
			ds, _ := m["Dimensions"].([]any)
			for _, d := range ds {
				dims = append(dims, d.(map[string]any)["Key"].(string))
			}
			sort.Strings(dims)
			ns := m["MetricNamespace"].(string)
			if out[ns] == nil {
				out[ns] = map[string]string{}
			}
			out[ns][m["MetricName"].(string)] = strings.Join(dims, ",")
		}
	}
	return out
}

func (m metricRef) check(t *testing.T, filters filterMetrics) {
	t.Helper()
	sort.Strings(m.dims)
	if strings.HasPrefix(m.namespace, "obslink/") { // ours: a metric filter of the same template publishes it
		dims, ok := filters[m.namespace][m.name]
		if assert.True(t, ok, "%s: no metric filter publishes %s %s", m.where, m.namespace, m.name) {
			assert.Equal(t, dims, strings.Join(m.dims, ","), "%s: %s %s dimensions", m.where, m.namespace, m.name)
		}
		assert.GreaterOrEqual(t, m.period, 60.0, m.where)
		return
	}
	sets, ok := publishedMetrics[m.namespace][m.name]
	if !assert.True(t, ok, "%s: %s %s is not a metric AWS publishes for these resources", m.where, m.namespace, m.name) {
		return
	}
	assert.Contains(t, sets, strings.Join(m.dims, ","), "%s: %s %s is not published with dimensions %v", m.where, m.namespace, m.name, m.dims)
	min := resolution[m.namespace]
	if min == 0 {
		min = 60
	}
	assert.GreaterOrEqual(t, m.period, min, "%s: %s %s read every %v s, published every %v s", m.where, m.namespace, m.name, m.period, min)
}

// alarmMetrics reads the metric of an AWS::CloudWatch::Alarm, in either form.
func alarmMetrics(where string, props map[string]any) []metricRef {
	dimsOf := func(v any) []string {
		var out []string
		ds, _ := v.([]any)
		for _, d := range ds {
			out = append(out, d.(map[string]any)["Name"].(string))
		}
		return out
	}
	if name, ok := props["MetricName"].(string); ok {
		return []metricRef{{where, props["Namespace"].(string), name, dimsOf(props["Dimensions"]), props["Period"].(float64)}}
	}
	var out []metricRef
	ms, _ := props["Metrics"].([]any)
	for _, m := range ms {
		stat, ok := m.(map[string]any)["MetricStat"].(map[string]any)
		if !ok {
			continue
		}
		metric := stat["Metric"].(map[string]any)
		out = append(out, metricRef{where, metric["Namespace"].(string), metric["MetricName"].(string), dimsOf(metric["Dimensions"]), stat["Period"].(float64)})
	}
	return out
}

// dashboardMetrics reads the metrics of a dashboard body: arrays
// [namespace, name, dim, value, ..., {options}] and SEARCH expressions.
func dashboardMetrics(t *testing.T, where, body string) (refs []metricRef, searches []string, widgets int) {
	var dash struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Metrics []any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &dash), where)
	for _, w := range dash.Widgets {
		widgets++
		for _, line := range w.Properties.Metrics {
			parts := line.([]any)
			if opts, ok := parts[0].(map[string]any); ok {
				// Math over the widget's other (hidden) lines is checked through them.
				if e := opts["expression"].(string); strings.HasPrefix(e, "SEARCH(") {
					searches = append(searches, e)
				}
				continue
			}
			var strs []string
			period := 300.0 // a widget's default
			for _, p := range parts {
				switch v := p.(type) {
				case string:
					strs = append(strs, v)
				case map[string]any:
					if f, ok := v["period"].(float64); ok {
						period = f
					}
				}
			}
			ref := metricRef{where: where, namespace: strs[0], name: strs[1], period: period}
			for i := 2; i+1 < len(strs); i += 2 {
				ref.dims = append(ref.dims, strs[i])
			}
			refs = append(refs, ref)
		}
	}
	return refs, searches, widgets
}

// TestMonitoringReadsPublishedMetrics: every alarm and dashboard widget of
// every provider (default topology and examples) reads a metric AWS
// publishes for that resource type with its real dimensions; each provider
// has its alarms and one dashboard; tgw providers outside the main region
// watch their attachment.
func TestMonitoringReadsPublishedMetrics(t *testing.T) {
	for _, nt := range allTopologies(t) {
		f, topo := nt.file, nt.topo
		tpls := templates(t, nt.synth(t))
		for _, r := range topo.Regions {
			name := topo.Name + "-provider-" + r.Region
			tpl := tpls[name]
			require.NotNil(t, tpl, name)
			alarms, dashboards := 0, 0
			var refs []metricRef
			for id, res := range tpl.Resources {
				switch res.Type {
				case "AWS::CloudWatch::Alarm":
					alarms++
					props := tpl.Resolve(res.Properties).(map[string]any)
					refs = append(refs, alarmMetrics(name+"/"+id, props)...)
					assert.Contains(t, props["AlarmDescription"], "README, Monitoring", "%s/%s says where to look", name, id)
				case "AWS::CloudWatch::Dashboard":
					dashboards++
					body := tpl.ResolveString(res.Properties["DashboardBody"])
					dr, searches, widgets := dashboardMetrics(t, name+"/"+id, body)
					refs = append(refs, dr...)
					minWidgets, service := 10, `"Service Id"="ref-ProviderEndpointService`
					if topo.Proxyless() { // no fleet: no in-service, CPU, network or request widgets
						minWidgets, service = 7, `"Service Id"="ref-EndpointEndpointService`
					}
					assert.GreaterOrEqual(t, widgets, minWidgets, "%s: dashboard widgets", name)
					require.Len(t, searches, 2, "%s: per-endpoint searches", name)
					for _, s := range searches {
						assert.Contains(t, s, `{AWS/PrivateLinkServices,"Service Id","VPC Endpoint Id"}`)
						assert.Contains(t, s, service)
					}
				}
			}
			require.NotEmpty(t, refs, name)
			filters := filtersOf(tpl)
			accessFilters := 5
			if topo.Proxyless() {
				accessFilters = 0 // no proxies, no access log
			}
			if topo.StackSetsEnabled() {
				accessFilters++ // and one on the admission function's log
			}
			require.Len(t, filters["obslink/"+name], accessFilters, "%s: metric filters of the access log", name)
			if topo.Proxyless() {
				// Healthy and unhealthy ALBs per port, resets; no fleet alarms.
				assert.Equal(t, 2*len(topo.Services)+1, alarms, "%s (%s): alarms", name, filepath.Base(f))
				assert.Equal(t, 1, dashboards, name)
				for _, m := range refs {
					m.check(t, filters)
				}
				continue
			}
			for _, m := range refs {
				m.check(t, filters)
			}
			ports := map[int]bool{}
			for _, s := range topo.Services {
				ports[s.Port] = true
			}
			want := 2*len(ports) + 3 + len(topo.Services) // healthy and unhealthy per port; resets, in service, CPU; upstream errors per service
			if topo.InterRegion == topology.TGW && r.Region != topo.ControlPlane.Region {
				want += 2 // the attachment's drops, and the peering's with the hub
			}
			if topo.StackSetsEnabled() {
				want += 2 // the admission function's errors, and its runs without Organizations
			}
			if linkmonitor.BaselineMbps(topo.Proxy.InstanceType) > 0 || topo.Monitoring.NetworkBaselineMbps != nil {
				want++ // network against the instance type's baseline
			}
			assert.Equal(t, want, alarms, "%s (%s): alarms", name, filepath.Base(f))
			assert.Equal(t, 1, dashboards, name)
		}
	}
}
