// Package linkmonitor provides LinkMonitor: the alarms and the dashboard of
// one provider region, built from the metrics AWS publishes for what the
// provider runs: the NLB and its target groups (AWS/NetworkELB), the
// endpoint service (AWS/PrivateLinkServices), the proxies' Auto Scaling
// group (AWS/AutoScaling, AWS/EC2) and, with Transit Gateways, the
// provider's attachment (AWS/TransitGateway).
package linkmonitor

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/burstable"
	"github.com/obslink/obslink/internal/check"
)

// Thresholds are the alarms' limits.
type Thresholds struct {
	// MinHealthyHosts: a target group with fewer healthy proxies than this
	// alarms. Default: 1.
	MinHealthyHosts *float64
	// TargetResets: more TCP resets from the proxies than this in 5 minutes
	// alarms. Default: 100.
	TargetResets *float64
	// CPUPercent: average CPU above this for three times EvaluationMinutes
	// alarms; keep it above the group's scaling target (50). Default: 80.
	CPUPercent *float64
	// EvaluationMinutes: how long a condition must hold before an alarm
	// fires. Default: 5.
	EvaluationMinutes *float64
	// UpstreamErrors: more requests of one service answered 5xx by its ALB,
	// or not at all, than this in 5 minutes alarms. Default: 10.
	UpstreamErrors *float64
	// NetworkPercent: a proxy's average traffic (the larger of in and out)
	// above this share of the baseline bandwidth, for three times
	// EvaluationMinutes, alarms. Default: 80.
	NetworkPercent *float64
}

// Props configures a LinkMonitor.
type Props struct {
	// Name prefixes the alarms and names the dashboard (e.g. the stack name). Required.
	Name *string
	// LoadBalancer is the provider's NLB. Required.
	LoadBalancer awselasticloadbalancingv2.INetworkLoadBalancer
	// TargetGroups are the NLB's target groups, with the ports they serve. Required: at least one.
	TargetGroups *[]*TargetGroup
	// ServiceID is the endpoint service id (vpce-svc-...). Required.
	ServiceID *string
	// AutoScalingGroup is the proxies' group. Default: nil, when the NLB's
	// targets are ALBs (proxy.mode none): no fleet alarms (in service, CPU,
	// network), and the target alarms speak of ALBs.
	AutoScalingGroup awsautoscaling.AutoScalingGroup
	// InstanceType of the proxies, named in the CPU and network alarms.
	// Required with AutoScalingGroup.
	InstanceType *string
	// NetworkBaselineMbps is the instance type's baseline network
	// bandwidth. Default: BaselineMbps(InstanceType); when that is unknown
	// too, no network alarm (the dashboard still shows the traffic).
	NetworkBaselineMbps *float64
	// MinCapacity of the group: fewer proxies in service alarms. Required
	// with AutoScalingGroup.
	MinCapacity *float64
	// TransitGatewayID is the provider's own gateway (tgw). Default: none
	// (no Transit Gateway widgets or alarm).
	TransitGatewayID *string
	// TransitGatewayAttachmentID is the provider VPC's attachment to that
	// gateway. Required with TransitGatewayID. Default: none.
	TransitGatewayAttachmentID *string
	// TransitGatewayPeeringAttachmentID is that gateway's peering with the
	// hub (the link to the main region). Default: none (not watched).
	TransitGatewayPeeringAttachmentID *string
	// AdmissionFunction admits the endpoint's connections (StackSets);
	// its errors, and runs that could not read AWS Organizations (its log
	// lines with an "organizations" field), alarm. Default: none.
	AdmissionFunction awslambda.Function
	// Thresholds of the alarms. Default: see Thresholds.
	Thresholds *Thresholds
	// AlarmTopic receives every alarm's and OK's notification. Default: none
	// (the alarms still exist and show on the dashboard).
	AlarmTopic awssns.ITopic
	// AccessLogGroup holds the proxies' JSON access log; metric filters turn
	// it into per-service request, error and latency metrics. Default: none
	// (no per-service metrics, widgets or alarms).
	AccessLogGroup awslogs.ILogGroup
	// Services are the service names the access log records; each gets an
	// upstream-error alarm. Required with AccessLogGroup.
	Services *[]*string
}

// thresholds are Thresholds' values, defaults applied.
type thresholds struct {
	MinHealthyHosts, TargetResets, CPUPercent, EvaluationMinutes, UpstreamErrors, NetworkPercent int
}

// settings are Props' values, defaults applied.
type settings struct {
	Name                                                                            string
	LoadBalancer                                                                    awselasticloadbalancingv2.INetworkLoadBalancer
	TargetGroups                                                                    []targetGroup
	ServiceID                                                                       *string
	AutoScalingGroup                                                                awsautoscaling.AutoScalingGroup
	InstanceType                                                                    string
	NetworkBaselineMbps, MinCapacity                                                int
	TransitGatewayID, TransitGatewayAttachmentID, TransitGatewayPeeringAttachmentID *string
	AdmissionFunction                                                               awslambda.Function
	Thresholds                                                                      thresholds
	AlarmTopic                                                                      awssns.ITopic
	AccessLogGroup                                                                  awslogs.ILogGroup
	Services                                                                        []string
}

// targetGroup is a TargetGroup's values.
type targetGroup struct {
	Port  int
	Group awselasticloadbalancingv2.NetworkTargetGroup
}

// MetricNamespace is the CloudWatch namespace of a monitor's metrics from
// the access log: obslink/<Name>.
func MetricNamespace(name string) string { return "obslink/" + name }

// TargetGroup is one NLB target group and the listener port it serves.
type TargetGroup struct {
	// Port the listener serves. Required.
	Port *float64
	// Group is the target group. Required.
	Group awselasticloadbalancingv2.NetworkTargetGroup
}

// LinkMonitor is the alarms and dashboard of one provider region.
type LinkMonitor struct {
	constructs.Construct
	alarms    []awscloudwatch.Alarm
	dashboard awscloudwatch.Dashboard
}

// settings are p's values with the defaults applied, recording in chk
// what cannot be a whole number.
func (p *Props) settings(chk *check.Props) settings {
	out := settings{
		Name: check.Str(p.Name), LoadBalancer: p.LoadBalancer, ServiceID: p.ServiceID, AutoScalingGroup: p.AutoScalingGroup,
		InstanceType: check.Str(p.InstanceType), MinCapacity: chk.Int("props.MinCapacity", p.MinCapacity, 0),
		TransitGatewayID: p.TransitGatewayID, TransitGatewayAttachmentID: p.TransitGatewayAttachmentID,
		TransitGatewayPeeringAttachmentID: p.TransitGatewayPeeringAttachmentID, AdmissionFunction: p.AdmissionFunction,
		AlarmTopic: p.AlarmTopic, AccessLogGroup: p.AccessLogGroup, Services: chk.Strings("props.Services", p.Services),
	}
	out.NetworkBaselineMbps = chk.Int("props.NetworkBaselineMbps", p.NetworkBaselineMbps, BaselineMbps(out.InstanceType))
	th := p.Thresholds
	if th == nil {
		th = &Thresholds{}
	}
	out.Thresholds = thresholds{
		MinHealthyHosts:   chk.Int("props.Thresholds.MinHealthyHosts", th.MinHealthyHosts, 1),
		TargetResets:      chk.Int("props.Thresholds.TargetResets", th.TargetResets, 100),
		CPUPercent:        chk.Int("props.Thresholds.CPUPercent", th.CPUPercent, 80),
		EvaluationMinutes: chk.Int("props.Thresholds.EvaluationMinutes", th.EvaluationMinutes, 5),
		UpstreamErrors:    chk.Int("props.Thresholds.UpstreamErrors", th.UpstreamErrors, 10),
		NetworkPercent:    chk.Int("props.Thresholds.NetworkPercent", th.NetworkPercent, 80),
	}
	for i, tg := range check.List(chk, "props.TargetGroups", p.TargetGroups) {
		if tg == nil {
			continue
		}
		field := fmt.Sprintf("props.TargetGroups[%d]", i)
		if tg.Group == nil {
			chk.Add(field+".Group", "is nil; give the NLB's target group (ProviderRegion.TargetGroups())")
		}
		port := chk.Int(field+".Port", tg.Port, 0)
		chk.Port(field+".Port", port)
		out.TargetGroups = append(out.TargetGroups, targetGroup{Port: port, Group: tg.Group})
	}
	return out
}

// check records what in p (defaults applied) cannot describe a monitor.
func (p settings) check(chk *check.Props) {
	if p.Name == "" {
		chk.Add("props.Name", "is empty; give the prefix of the alarms' names, such as the stack name")
	}
	if p.LoadBalancer == nil {
		chk.Add("props.LoadBalancer", "is nil; give the provider's NLB (ProviderRegion.LoadBalancer())")
	}
	if p.ServiceID == nil || *p.ServiceID == "" {
		chk.Add("props.ServiceID", "is empty; give the endpoint service id (ProviderRegion.ServiceID())")
	}
	if len(p.TargetGroups) == 0 {
		chk.Add("props.TargetGroups", "is empty; give the NLB's target groups with their ports (ProviderRegion.TargetGroups(), ListenerPorts())")
	}
	if p.AutoScalingGroup != nil && p.MinCapacity < 1 {
		chk.Add("props.MinCapacity", "is %d; give the group's minimum", p.MinCapacity)
	}
	if (p.TransitGatewayID == nil) != (p.TransitGatewayAttachmentID == nil) {
		chk.Add("props.TransitGatewayAttachmentID", "and TransitGatewayID: give both, or neither")
	}
	if p.AccessLogGroup != nil && len(p.Services) == 0 {
		chk.Add("props.Services", "is empty; give the service names the access log records")
	}
}

// New creates the alarms and the dashboard. It panics on props that cannot
// describe a provider (programmer misuse, like the CDK's own constructors),
// with every mistake, the construct's path and the field.
func New(scope constructs.Construct, id *string, props *Props) *LinkMonitor {
	chk := check.New("linkmonitor.New", scope, id)
	var p settings
	if props == nil {
		chk.Add("props", "is nil; pass &linkmonitor.Props{Name: ..., LoadBalancer: ..., TargetGroups: ..., ServiceID: ...}")
	} else {
		p = props.settings(chk)
		p.check(chk)
	}
	chk.Panic()
	m := &LinkMonitor{}
	constructs.NewConstruct_Override(m, scope, id)
	th := p.Thresholds
	eval := jsii.Number(float64(th.EvaluationMinutes))
	// Built here, not in a package variable: a jsii call at package init
	// starts Node in every program that imports this package, even
	// obslink validate and plan, which never synthesize.
	minute := awscdk.Duration_Minutes(jsii.Number(1))

	// What the NLB's targets are: the proxies, or (proxy.mode none) the ALBs.
	targets := "proxies"
	unhealthyText := "A proxy fails the NLB health check on port %d (nginx down or its bootstrap failed); the Auto Scaling group replaces it. See README, Monitoring."
	resetsText := "More than %d TCP resets from the proxies in 5 minutes: nginx restarts or closes agents' connections. See README, Monitoring."
	if p.AutoScalingGroup == nil {
		targets = "ALBs"
		unhealthyText = "An ALB fails the NLB health check on port %d (no answer of 200-399 on its health check path: its listener, its rules, its security group, which must let the NLB's group in, or its own targets). See README, Monitoring."
		resetsText = "More than %d TCP resets from the ALBs in 5 minutes: they close agents' connections. See README, Monitoring."
	}
	var healthy, unhealthy []awscloudwatch.IMetric
	for _, tg := range p.TargetGroups {
		h := tg.Group.Metrics().HealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Minimum"), Period: minute,
			Label: jsii.String(fmt.Sprintf("healthy, port %d", tg.Port))})
		u := tg.Group.Metrics().UnHealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minute,
			Label: jsii.String(fmt.Sprintf("unhealthy, port %d", tg.Port))})
		healthy, unhealthy = append(healthy, h), append(unhealthy, u)
		m.alarm(p, fmt.Sprintf("HealthyHosts%d", tg.Port), h, &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(fmt.Sprintf("Fewer than %d healthy %s behind the NLB on port %d: agents' connections on it are failing or about to. See README, Monitoring.", th.MinHealthyHosts, targets, tg.Port)),
			Threshold:          jsii.Number(float64(th.MinHealthyHosts)),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			EvaluationPeriods:  eval,
			TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
		})
		m.alarm(p, fmt.Sprintf("UnhealthyHosts%d", tg.Port), u, &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(fmt.Sprintf(unhealthyText, tg.Port)),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  eval,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	resets := p.LoadBalancer.Metrics().TcpTargetResetCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"),
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String("TCP resets from the " + targets)})
	m.alarm(p, "TargetResets", resets, &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(fmt.Sprintf(resetsText, th.TargetResets)),
		Threshold:          jsii.Number(float64(th.TargetResets)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	var fleetWidgets []awscloudwatch.IWidget
	if p.AutoScalingGroup != nil {
		fleetWidgets = m.fleet(p)
	}

	service := map[string]*string{"Service Id": p.ServiceID}
	plMetric := func(name, stat, label string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/PrivateLinkServices"), MetricName: jsii.String(name),
			DimensionsMap: &service, Statistic: jsii.String(stat), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String(label)})
	}
	endpoints := plMetric("EndpointsCount", "Maximum", "endpoints connected")
	rst := plMetric("RstPacketsSent", "Sum", "resets sent to endpoints")

	// Per consumer endpoint: a search, since endpoint ids belong to the consumers' stacks.
	perEndpoint := func(metric, label string) awscloudwatch.MathExpression {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: awscdk.Fn_Join(jsii.String(""), jsii.Strings(
				`SEARCH('{AWS/PrivateLinkServices,"Service Id","VPC Endpoint Id"} MetricName="`+metric+`" "Service Id"="`, *p.ServiceID, `"', 'Sum', 300)`)),
			Label:  jsii.String(label),
			Period: awscdk.Duration_Minutes(jsii.Number(5)),
		})
	}

	widgets := []awscloudwatch.IWidget{
		nil, // the alarms' status, once every alarm exists
		graph("Healthy "+targets+" per target group (NLB)", healthy),
		graph("Unhealthy "+targets+" per target group (NLB)", unhealthy),
		graph("TCP resets from the "+targets+" (NLB)", []awscloudwatch.IMetric{resets}),
		graph("Bytes per consumer endpoint (PrivateLink)", []awscloudwatch.IMetric{perEndpoint("BytesProcessed", "bytes")}),
		graph("New connections per consumer endpoint (PrivateLink)", []awscloudwatch.IMetric{perEndpoint("NewConnections", "connections")}),
		graph("Endpoints and resets (PrivateLink)", []awscloudwatch.IMetric{endpoints, rst}),
	}
	widgets = append(widgets, fleetWidgets...)
	if p.AccessLogGroup != nil {
		widgets = append(widgets, m.requestMetrics(p)...)
	}
	if f := p.AdmissionFunction; f != nil {
		// A failing admission leaves new consumers pending (and departed ones connected).
		errs := f.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(15)),
			Label: jsii.String("admission errors")})
		m.alarm(p, "AdmissionErrors", errs, &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String("The function that accepts and rejects endpoint connections failed: new consumers stay pending, departed accounts stay connected. Read its log group. See README, Monitoring."),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		// It does not fail when Organizations cannot be read (it rejects no one
		// then): its log says so, and a metric filter counts it.
		awslogs.NewMetricFilter(m.Construct, jsii.String("AdmissionOrgUnreadableFilter"), &awslogs.MetricFilterProps{
			LogGroup:        f.LogGroup(),
			FilterPattern:   awslogs.FilterPattern_Exists(jsii.String("$.organizations")),
			MetricNamespace: jsii.String(MetricNamespace(p.Name)),
			MetricName:      jsii.String("AdmissionOrgUnreadable"),
			MetricValue:     jsii.String("1"),
		})
		unreadable := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(MetricNamespace(p.Name)), MetricName: jsii.String("AdmissionOrgUnreadable"),
			Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(15)), Label: jsii.String("runs that could not read Organizations")})
		m.alarm(p, "AdmissionOrgUnreadable", unreadable, &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String("The admission function could not read AWS Organizations (the <name>-org-reader role, a denial, throttling): it admits named accounts only and rejects no one until it can. See README, Monitoring."),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		widgets = append(widgets, graph("Admission: errors, runs without Organizations", []awscloudwatch.IMetric{errs, unreadable}))
	}
	if p.TransitGatewayID != nil {
		widgets = append(widgets, m.tgwAttachment(p, p.TransitGatewayAttachmentID, "TgwNoRoute", "Transit Gateway attachment",
			"Packets from the provider VPC's attachment dropped for lack of a route: a Transit Gateway route or association is missing. See README, Monitoring.")...)
		if p.TransitGatewayPeeringAttachmentID != nil {
			// The inter-region link itself: the gateway's peering with the hub.
			widgets = append(widgets, m.tgwAttachment(p, p.TransitGatewayPeeringAttachmentID, "TgwPeeringNoRoute", "Peering with the hub:",
				"Packets on the Transit Gateway peering with the hub dropped for lack of a route: a static route for the cluster or this provider's CIDR is missing on one side. See README, Monitoring.")...)
		}
	}
	widgets[0] = awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("obslink alarms"), Alarms: m.alarmRefs(), Width: jsii.Number(24)})
	m.dashboard = awscloudwatch.NewDashboard(m.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(p.Name),
		Widgets:       rows(widgets),
	})
	return m
}

// fleet alarms on the proxies' group (in service, CPU, network) and returns
// its widgets.
func (m *LinkMonitor) fleet(p settings) []awscloudwatch.IWidget {
	th := p.Thresholds
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	group := map[string]*string{"AutoScalingGroupName": p.AutoScalingGroup.AutoScalingGroupName()}
	inService := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/AutoScaling"), MetricName: jsii.String("GroupInServiceInstances"),
		DimensionsMap: &group, Statistic: jsii.String("Minimum"), Period: minute, Label: jsii.String("proxies in service")})
	m.alarm(p, "InService", inService, &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(fmt.Sprintf("Fewer than %d proxies (minCapacity) in service: launches are failing (capacity, image, bootstrap). See README, Monitoring.", p.MinCapacity)),
		Threshold:          jsii.Number(float64(p.MinCapacity)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(float64(2 * th.EvaluationMinutes)),
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	// EC2 publishes CPU every 5 minutes without detailed monitoring: a
	// shorter period would see mostly missing data.
	cpu := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/EC2"), MetricName: jsii.String("CPUUtilization"),
		DimensionsMap: &group, Statistic: jsii.String("Average"), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String("CPU %")})
	m.alarm(p, "Cpu", cpu, &awscloudwatch.CreateAlarmOptions{
		AlarmDescription: jsii.String(fmt.Sprintf("Average proxy CPU (%s) above %d %% while the group scales at 50 %%: the fleet is at maxCapacity or cannot launch fast enough. See README, Monitoring.",
			p.InstanceType, th.CPUPercent)),
		Threshold:          jsii.Number(float64(th.CPUPercent)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(float64((3*th.EvaluationMinutes + 4) / 5)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	return []awscloudwatch.IWidget{
		graph("Proxies in service (Auto Scaling)", []awscloudwatch.IMetric{inService}),
		graph(fmt.Sprintf("CPU %% (limit %d)", th.CPUPercent), []awscloudwatch.IMetric{cpu}),
		m.network(p, group),
	}
}

// tgwAttachment alarms on packets an attachment of the region's gateway
// drops for lack of a route, and returns its bytes and drops widgets.
func (m *LinkMonitor) tgwAttachment(p settings, attachment *string, alarmID, title, description string) []awscloudwatch.IWidget {
	dims := map[string]*string{"TransitGateway": p.TransitGatewayID, "TransitGatewayAttachment": attachment}
	metric := func(name, label string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/TransitGateway"), MetricName: jsii.String(name),
			DimensionsMap: &dims, Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String(label)})
	}
	drops := metric("PacketDropCountNoRoute", "dropped, no route")
	m.alarm(p, alarmID, drops, &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	return []awscloudwatch.IWidget{
		graph(title+" bytes", []awscloudwatch.IMetric{metric("BytesIn", "in"), metric("BytesOut", "out")}),
		graph(title+" drops", []awscloudwatch.IMetric{drops, metric("PacketDropCountBlackhole", "dropped, blackhole")}),
	}
}

// network alarms when a proxy's average traffic nears its instance type's
// baseline bandwidth (above it, a burstable type spends network credits and
// then is held to the baseline), and returns the widget: Mbps per proxy, in
// and out, with the baseline drawn. The baseline applies to each direction
// (EC2 User Guide, "Amazon EC2 instance network bandwidth"), so the alarm
// reads the larger of the two.
func (m *LinkMonitor) network(p settings, group map[string]*string) awscloudwatch.IWidget {
	// EC2 publishes NetworkIn/Out as bytes per period (5 minutes with basic
	// monitoring); Maximum over the group is the busiest proxy (agents hold
	// long connections, so the NLB's flow hashing can load one proxy more).
	perProxy := func(name string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/EC2"), MetricName: jsii.String(name),
			DimensionsMap: &group, Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
	}
	mbps := func(expr, label string) awscloudwatch.MathExpression {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String(expr + " * 8 / PERIOD(netin) / 1000000"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{"netin": perProxy("NetworkIn"), "netout": perProxy("NetworkOut")},
			Label:        jsii.String(label),
			Period:       awscdk.Duration_Minutes(jsii.Number(5)),
		})
	}
	title := fmt.Sprintf("Network of the busiest proxy, Mbps (%s)", p.InstanceType)
	widget := &awscloudwatch.GraphWidgetProps{
		Title: jsii.String(title), Width: jsii.Number(12), Height: jsii.Number(6),
		Left: &[]awscloudwatch.IMetric{mbps("netin", "in"), mbps("netout", "out")},
	}
	if base := p.NetworkBaselineMbps; base > 0 {
		limit := float64(base) * float64(p.Thresholds.NetworkPercent) / 100
		m.alarm(p, "NetworkBaseline", mbps("IF(netin > netout, netin, netout)", "Mbps of the busiest proxy, the larger of in and out"), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription: jsii.String(fmt.Sprintf("The busiest proxy's traffic above %d %% of %s's baseline bandwidth (%d Mbps): burst credits run out, then the instance is held to the baseline. See README, Monitoring.",
				p.Thresholds.NetworkPercent, p.InstanceType, base)),
			Threshold:          jsii.Number(limit),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(float64((3*p.Thresholds.EvaluationMinutes + 4) / 5)),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		widget.Title = jsii.String(fmt.Sprintf("%s, baseline %d", title, base))
		widget.LeftAnnotations = &[]*awscloudwatch.HorizontalAnnotation{
			{Value: jsii.Number(float64(base)), Label: jsii.String("baseline")},
			{Value: jsii.Number(limit), Label: jsii.String("alarm")},
		}
	}
	return awscloudwatch.NewGraphWidget(widget)
}

// BaselineMbps is the baseline network bandwidth of an EC2 instance type
// in Mbps, for the burstable families t3, t3a and t4g, or 0 when obslink
// does not know it: burstable.BaselineMbps, for users of this package.
func BaselineMbps(instanceType string) int { return burstable.BaselineMbps(instanceType) }

// requestMetrics turns the access log into metrics (metric filters, one
// metric per filter and service: the Service dimension comes from the
// log's service field), alarms on upstream errors per service, and returns
// the widgets.
func (m *LinkMonitor) requestMetrics(p settings) []awscloudwatch.IWidget {
	ns := MetricNamespace(p.Name)
	service := map[string]*string{"Service": jsii.String("$.service")}
	filter := func(id, metric string, pattern awslogs.IFilterPattern, value string, unit awscloudwatch.Unit) {
		awslogs.NewMetricFilter(m.Construct, jsii.String(id), &awslogs.MetricFilterProps{
			LogGroup: p.AccessLogGroup, FilterPattern: pattern, MetricNamespace: jsii.String(ns),
			MetricName: jsii.String(metric), MetricValue: jsii.String(value), Dimensions: &service, Unit: unit,
		})
	}
	// Numeric comparisons only: every access-log line has a numeric status
	// and request_time (nginx's log format writes them unquoted).
	filter("RequestsFilter", "Requests", awslogs.FilterPattern_NumberValue(jsii.String("$.status"), jsii.String(">="), jsii.Number(0)), "1", awscloudwatch.Unit_COUNT)
	filter("Errors4xxFilter", "Errors4xx", awslogs.FilterPattern_All(
		awslogs.FilterPattern_NumberValue(jsii.String("$.status"), jsii.String(">="), jsii.Number(400)),
		awslogs.FilterPattern_NumberValue(jsii.String("$.status"), jsii.String("<"), jsii.Number(500))), "1", awscloudwatch.Unit_COUNT)
	filter("Errors5xxFilter", "Errors5xx", awslogs.FilterPattern_NumberValue(jsii.String("$.status"), jsii.String(">="), jsii.Number(500)), "1", awscloudwatch.Unit_COUNT)
	filter("UpstreamErrorsFilter", "UpstreamErrors", awslogs.FilterPattern_NumberValue(jsii.String("$.upstream_error"), jsii.String("="), jsii.Number(1)), "1", awscloudwatch.Unit_COUNT)
	filter("RequestTimeFilter", "RequestTime", awslogs.FilterPattern_NumberValue(jsii.String("$.request_time"), jsii.String(">="), jsii.Number(0)), "$.request_time", awscloudwatch.Unit_SECONDS)

	perService := func(metric, stat, label string) []awscloudwatch.IMetric {
		var out []awscloudwatch.IMetric
		for _, s := range p.Services {
			dims := map[string]*string{"Service": jsii.String(s)}
			out = append(out, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(ns), MetricName: jsii.String(metric),
				DimensionsMap: &dims, Statistic: jsii.String(stat), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String(s + label)}))
		}
		return out
	}
	upstream := perService("UpstreamErrors", "Sum", "")
	for i, s := range p.Services {
		m.alarm(p, "UpstreamErrors-"+s, upstream[i], &awscloudwatch.CreateAlarmOptions{
			AlarmDescription: jsii.String(fmt.Sprintf("More than %d requests for %s in 5 minutes answered 5xx by its ALB, or not at all (nginx returns 502/504): the proxies are healthy but the ALB is not reachable or failing. See README, Monitoring.",
				p.Thresholds.UpstreamErrors, s)),
			Threshold:          jsii.Number(float64(p.Thresholds.UpstreamErrors)),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	return []awscloudwatch.IWidget{
		graph("Requests per service (proxies)", perService("Requests", "Sum", "")),
		graph("Upstream errors per service: ALB 5xx or unreachable", upstream),
		graph("5xx per service (proxies)", perService("Errors5xx", "Sum", "")),
		graph("4xx per service (proxies)", perService("Errors4xx", "Sum", "")),
		graph("Request time p99 per service, seconds", perService("RequestTime", "p99", " p99")),
	}
}

func (m *LinkMonitor) alarm(p settings, id string, metric awscloudwatch.IMetric, opts *awscloudwatch.CreateAlarmOptions) {
	opts.AlarmName = jsii.String(p.Name + "-" + id)
	opts.DatapointsToAlarm = opts.EvaluationPeriods
	a := awscloudwatch.NewAlarm(m.Construct, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             metric,
		AlarmName:          opts.AlarmName,
		AlarmDescription:   opts.AlarmDescription,
		Threshold:          opts.Threshold,
		ComparisonOperator: opts.ComparisonOperator,
		EvaluationPeriods:  opts.EvaluationPeriods,
		DatapointsToAlarm:  opts.DatapointsToAlarm,
		TreatMissingData:   opts.TreatMissingData,
	})
	if p.AlarmTopic != nil {
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(p.AlarmTopic))
		a.AddOkAction(awscloudwatchactions.NewSnsAction(p.AlarmTopic))
	}
	m.alarms = append(m.alarms, a)
}

func (m *LinkMonitor) alarmRefs() *[]interfacesawscloudwatch.IAlarmRef {
	out := make([]interfacesawscloudwatch.IAlarmRef, len(m.alarms))
	for i, a := range m.alarms {
		out[i] = a
	}
	return &out
}

func graph(title string, metrics []awscloudwatch.IMetric) awscloudwatch.IWidget {
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String(title), Left: &metrics, Width: jsii.Number(12), Height: jsii.Number(6),
	})
}

// rows lays widgets out two per row, the status widget alone on the first.
func rows(widgets []awscloudwatch.IWidget) *[]*[]awscloudwatch.IWidget {
	first := []awscloudwatch.IWidget{widgets[0]}
	out := []*[]awscloudwatch.IWidget{&first}
	for i := 1; i < len(widgets); i += 2 {
		row := widgets[i:min(i+2, len(widgets))]
		out = append(out, &row)
	}
	return &out
}

// Alarms are the region's alarms, in creation order.
func (m *LinkMonitor) Alarms() []awscloudwatch.Alarm {
	return append([]awscloudwatch.Alarm(nil), m.alarms...)
}

// Dashboard is the region's dashboard.
func (m *LinkMonitor) Dashboard() awscloudwatch.Dashboard { return m.dashboard }
