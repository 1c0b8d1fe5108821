// Package proxyfleet provides NginxProxyFleet: an Auto Scaling group of nginx
// reverse proxies that route agents' requests by host name to the cluster's
// ALBs in the main region, keep upstream connections alive, and follow ALB
// address changes without a restart.
//
// The nginx configuration, the upstream re-resolver and the user data are
// rendered from the embedded files in assets/ by Config; the tests render the
// same way and run the result on real nginx.
package proxyfleet

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/nag"
	"github.com/obslink/obslink/internal/netutil"
)

// Props configures a NginxProxyFleet.
type Props struct {
	// Vpc the proxies run in; one instance subnet per zone is used. The
	// proxies reach AWS through its endpoints only: an SSM interface
	// endpoint with private DNS (their files and Session Manager), and the
	// S3 gateway endpoint (packages), CloudWatch Logs and CloudFormation
	// endpoints, which providerregion creates or checks. Required.
	Vpc awsec2.IVpc
	// VpcSubnets where the proxies run. Default: the VPC's private (isolated or with egress) subnets.
	VpcSubnets *awsec2.SubnetSelection
	// Routes are the services the proxies serve. Required: at least one.
	Routes *[]*Route
	// UpstreamCidrs are the networks of the ALBs; the proxies may connect
	// there on the upstream ports only. Required: at least one, unless
	// every route has an Alb (reached through its security group).
	UpstreamCidrs *[]*string
	// InstanceType of the proxies; a Graviton type (t4g, m7g, c8g, ...) gets the
	// arm64 Amazon Linux 2023 image, any other the x86_64 one. Default: t4g.small.
	InstanceType *string
	// MinCapacity of the group. Default: 2.
	MinCapacity *float64
	// MaxCapacity of the group. Default: 4.
	MaxCapacity *float64
	// TargetCPUPercent is the average CPU the group scales to keep. Default: 50.
	TargetCPUPercent *float64
	// HealthPort answers GET /healthz for the NLB. Default: 8080.
	HealthPort *float64
	// Resolver is the DNS server used to follow ALB address changes. Default: 169.254.169.253.
	Resolver *string
	// ResolveInterval is the seconds between lookups of the ALB names. Default: 10.
	ResolveInterval *float64
	// RootVolumeGiB is the size of the encrypted gp3 root volume. Default: 16.
	RootVolumeGiB *float64
	// ImageID pins the proxies' image (ami-...) in the stack's region; it
	// changes only when this value does. Default: none (see ImageLatest).
	ImageID *string
	// ImageLatest makes CloudFormation resolve the newest Amazon Linux 2023
	// image from AWS's public SSM parameter on every deploy: after AWS
	// publishes an image, any update of the stack replaces the fleet.
	// Default: false: the newest image is captured once, at the first deploy,
	// and kept until ImageGeneration changes.
	ImageLatest *bool
	// LogGroupPrefix names the CloudWatch Logs groups of nginx's logs,
	// <prefix>/access and <prefix>/error; a literal, since the instances'
	// user data carries it. Default: /obslink/<stack name>/proxies.
	LogGroupPrefix *string
	// LogRetentionDays keeps the proxies' logs this many days (a value
	// CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, ...). Default: 30.
	LogRetentionDays *float64
	// ImageGeneration names the captured image: changing it (1, 2, ...)
	// captures the then-newest Amazon Linux 2023 image at the next deploy and
	// rolls the fleet onto it. Ignored with ImageID or ImageLatest. Default: 1.
	ImageGeneration *float64
	// Consumers are the accounts and regions whose VPC endpoints connect,
	// with the names nginx logs and passes to the ALBs in
	// X-Obslink-Consumer. The table lives in SSM parameters under
	// /obslink/<stack name>/consumers (a change updates them, never the
	// instances); each instance joins it every minute with the endpoint
	// service's connections (EC2 API, so the VPC needs an EC2 interface
	// endpoint). Default: none (every connected endpoint is
	// "account-<id>"; "unknown" until the first map).
	Consumers *[]*Consumer
	// ProxyProtocol turns proxy protocol v2 on, on the target groups and in
	// nginx: consumer attribution. Switching it on for a running fleet
	// interrupts traffic until the instance refresh has replaced every
	// proxy (the target groups change first). Default: false.
	ProxyProtocol *bool
	// DisableConsumerHeader stops passing X-Obslink-Consumer to the ALBs
	// (nginx still logs the consumer). Default: false (passed).
	DisableConsumerHeader *bool
	// TLSPassthrough forwards the agents' TLS to each route's ALB HTTPS
	// listener unopened, routed by SNI (see Config.TLSPassthrough): every
	// route needs UpstreamTLS, the bootstrap installs the stream module, and
	// no X-Obslink-Consumer is passed (the proxies still log the consumer).
	// Route.TLSPassthrough does the same for one route (the header then
	// goes to the HTTP routes' ALBs only). Default: false.
	TLSPassthrough *bool
}

// Route is one service the proxies serve: requests for Host on Port go to
// Upstream:UpstreamPort.
type Route struct {
	// Name of the service, a DNS label (metrics, logs, traces). Required.
	Name *string
	// Host agents send, e.g. metrics.observability.internal. Required.
	Host *string
	// Port the proxy listens on. Required.
	Port *float64
	// Upstream is the DNS name of the service's ALB: a literal, or a token
	// CloudFormation resolves at deploy (alb.LoadBalancerDnsName()).
	// Default: Alb's DNS name; one of the two is required.
	Upstream *string
	// UpstreamPort is the ALB listener's port. Required.
	UpstreamPort *float64
	// Alb is the service's Application Load Balancer, in the fleet's region:
	// it gives Upstream, and the fleet's access to it on UpstreamPort is
	// opened through its security group (Connections), so the route needs
	// no UpstreamCidrs. An ALB in another region cannot be referenced by
	// security group: give Upstream and the fleet's UpstreamCidrs instead.
	// Default: none.
	Alb awselasticloadbalancingv2.IApplicationLoadBalancer
	// GRPC proxies the service as gRPC (cleartext HTTP/2 from agents).
	// Default: false (HTTP).
	GRPC *bool
	// UpstreamTLS speaks TLS to the ALB (an ALB's gRPC listener must be
	// HTTPS). Default: false.
	UpstreamTLS *bool
	// TLSPassthrough forwards this route's agents' TLS to its ALB HTTPS
	// listener unopened, routed by SNI, so that plain-HTTP and passthrough
	// routes share a fleet; it needs UpstreamTLS, and no HTTP route may use
	// its Port. Default: false (Props.TLSPassthrough sets it for every route).
	TLSPassthrough *bool
}

// Consumer is one consumer as nginx names it: the account and region of
// its VPC endpoint, and its name. All three are required.
type Consumer struct {
	Account, Region, Name *string
}

// settings are Props' values, defaults applied.
type settings struct {
	Vpc        awsec2.IVpc
	VpcSubnets *awsec2.SubnetSelection
	Routes     []ConfigRoute
	// Albs are the routes' Albs, nil for a route without one.
	Albs                  []awselasticloadbalancingv2.IApplicationLoadBalancer
	UpstreamCidrs         []string
	InstanceType          string
	MinCapacity           int
	MaxCapacity           int
	TargetCPUPercent      int
	HealthPort            int
	Resolver              string
	ResolveInterval       int
	RootVolumeGiB         int
	ImageID               string
	ImageLatest           bool
	LogGroupPrefix        string
	LogRetentionDays      int
	ImageGeneration       int
	Consumers             []consumer
	ProxyProtocol         bool
	DisableConsumerHeader bool
	TLSPassthrough        bool
}

// consumer is a Consumer's values.
type consumer struct{ account, region, name string }

// NginxProxyFleet is the proxies of one region.
type NginxProxyFleet struct {
	constructs.Construct
	asg           awsautoscaling.AutoScalingGroup
	sg            awsec2.SecurityGroup
	config        Config
	healthPort    int
	nginxConf     string
	accessLogs    awslogs.ILogGroup
	accessLogName string
	errorLogName  string
	proxyProtocol bool
}

var _ awsec2.IConnectable = (*NginxProxyFleet)(nil)

// Defaults of Props.
const (
	DefaultInstanceType     = "t4g.small"
	DefaultMinCapacity      = 2
	DefaultMaxCapacity      = 4
	DefaultTargetCPUPercent = 50
	DefaultRootVolumeGiB    = 16
)

// New creates the fleet. It panics on props that cannot describe a fleet
// (nil Vpc, no routes, no way to reach an upstream, min above max), like
// the CDK's own constructors do on misuse, with every mistake, the
// construct's path and the field in the message.
func New(scope constructs.Construct, id *string, props *Props) *NginxProxyFleet {
	chk := check.New("proxyfleet.New", scope, id)
	p := props.settings(chk)
	cfg := Config{Routes: p.Routes, HealthPort: p.HealthPort, ReadyFile: DefaultReadyFile, ProxyProtocol: p.ProxyProtocol,
		TLSPassthrough: p.TLSPassthrough, UpstreamsAtDeploy: upstreamsAtDeploy(p.Routes)}
	cfg.ConsumerHeader = !p.DisableConsumerHeader && cfg.seesRequests() // none inside TLS
	conf := ""
	if chk.OK() {
		var err error
		if conf, err = cfg.Render(); err != nil {
			chk.Add("props.Routes:", "%v", err)
		}
	}
	chk.Panic()
	f := &NginxProxyFleet{config: cfg, healthPort: p.HealthPort, nginxConf: conf, proxyProtocol: cfg.ProxyProtocol}
	constructs.NewConstruct_Override(f, scope, id)

	f.sg = awsec2.NewSecurityGroup(f.Construct, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              p.Vpc,
		Description:      jsii.String("obslink proxies: in from the NLB only, out to the ALBs and AWS endpoints only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	for _, cidr := range p.UpstreamCidrs {
		for _, port := range upstreamPorts(p.Routes) {
			f.sg.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(cidr)), awsec2.Port_Tcp(jsii.Number(float64(port))),
				jsii.String(fmt.Sprintf("to the cluster ALBs in %s on %d", cidr, port)), jsii.Bool(false))
		}
	}
	// Routes with an Alb reach it through its security group.
	for i, r := range p.Routes {
		if alb := p.Albs[i]; alb != nil {
			f.sg.Connections().AllowTo(alb, awsec2.Port_Tcp(jsii.Number(float64(r.UpstreamPort))),
				jsii.String(fmt.Sprintf("obslink proxies to the %s ALB on %d", r.Name, r.UpstreamPort)))
		}
	}
	// AWS endpoints in the VPC (Session Manager) and the S3 gateway (package repositories).
	f.sg.AddEgressRule(awsec2.Peer_Ipv4(p.Vpc.VpcCidrBlock()), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("to the VPC's interface endpoints (Session Manager)"), jsii.Bool(false))

	role := awsiam.NewRole(f.Construct, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("obslink proxy: Session Manager, its own files and consumer table, its logs and signals"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore")),
		},
	})

	nag.Suppress(role, "AwsSolutions-IAM4",
		"AmazonSSMManagedInstanceCore is AWS's minimal policy for Session Manager, the only way into the proxies (no SSH key, no port 22); it grants no data access.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore")

	// nginx's logs leave the instance: the CloudWatch agent ships them
	// through the VPC's CloudWatch Logs endpoint, one stream per instance.
	if p.LogGroupPrefix == "" {
		p.LogGroupPrefix = "/obslink/" + *awscdk.Stack_Of(f.Construct).StackName() + "/proxies"
	}
	stack := awscdk.Stack_Of(f.Construct)
	for _, lg := range []struct{ id, suffix string }{{"AccessLogs", "/access"}, {"ErrorLogs", "/error"}} {
		name := p.LogGroupPrefix + lg.suffix
		g := awslogs.NewCfnLogGroup(f.Construct, jsii.String(lg.id), &awslogs.CfnLogGroupProps{
			LogGroupName:    jsii.String(name),
			RetentionInDays: jsii.Number(float64(p.LogRetentionDays)),
		})
		if lg.id == "AccessLogs" {
			f.accessLogs = awslogs.LogGroup_FromLogGroupName(f.Construct, jsii.String("AccessLogsRef"), g.Ref())
			f.accessLogName = name
		} else {
			f.errorLogName = name
		}
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
			Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), jsii.Strings(
				"arn:", *awscdk.Aws_PARTITION(), ":logs:", *stack.Region(), ":", *stack.Account(), ":log-group:", name, ":*"))),
		}))
	}
	nag.Suppress(role, "AwsSolutions-IAM5",
		"The proxies write log streams named after their instance ids, known only at launch; the statements name the two log groups.",
		"Resource::arn:<AWS::Partition>:logs:"+*stack.Region()+":"+*stack.Account()+":log-group:"+f.accessLogName+":*",
		"Resource::arn:<AWS::Partition>:logs:"+*stack.Region()+":"+*stack.Account()+":log-group:"+f.errorLogName+":*",
		"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"+f.accessLogName+":*",
		"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"+f.errorLogName+":*")

	consumerPath := ""
	if f.proxyProtocol {
		consumerPath = f.consumerTable(role, p.Consumers)
	}

	// The bootstrap signals the group after its self-check; the group's
	// logical id is known only once it exists, so the user data takes it lazily.
	groupID := &logicalID{}
	// (CDK grants the role cloudformation:SignalResource on this stack's id
	// for the group's signals.)
	filesPath := "/obslink/" + *stack.StackName() + "/files"
	boot, err := cfg.Bootstrap(UserDataInput{Resolver: p.Resolver, ResolveInterval: p.ResolveInterval,
		AccessLogGroup: f.accessLogName, ErrorLogGroup: f.errorLogName,
		SignalStack: *stack.StackName(), SignalRegion: *stack.Region(),
		SignalResource: *awscdk.Lazy_String(groupID, nil), ConsumerParameters: consumerPath, FilesPath: filesPath})
	if err != nil {
		panic(fmt.Sprintf("proxyfleet.New(%q): %v", *f.Node().Path(), err))
	}
	files := f.filesParameters(role, boot.Parameters, filesPath)
	// The rendered script is the whole user data, shebang included.
	userData := awsec2.UserData_Custom(jsii.String(boot.UserData))

	cpu := awsec2.AmazonLinuxCpuType_X86_64
	if IsGraviton(p.InstanceType) {
		cpu = awsec2.AmazonLinuxCpuType_ARM_64
	}
	lt := awsec2.NewLaunchTemplate(f.Construct, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		InstanceType:             awsec2.NewInstanceType(jsii.String(p.InstanceType)),
		MachineImage:             f.machineImage(p, cpu),
		UserData:                 userData,
		Role:                     role,
		SecurityGroup:            f.sg,
		RequireImdsv2:            jsii.Bool(true),
		HttpTokens:               awsec2.LaunchTemplateHttpTokens_REQUIRED,
		HttpPutResponseHopLimit:  jsii.Number(1),
		AssociatePublicIpAddress: jsii.Bool(false),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(float64(p.RootVolumeGiB)), &awsec2.EbsDeviceOptions{
				Encrypted:           jsii.Bool(true),
				VolumeType:          awsec2.EbsDeviceVolumeType_GP3,
				DeleteOnTermination: jsii.Bool(true),
			}),
		}},
	})

	subnets := p.VpcSubnets
	if subnets == nil {
		subnets = &awsec2.SubnetSelection{Subnets: p.Vpc.SelectSubnets(nil).Subnets}
	}
	f.asg = awsautoscaling.NewAutoScalingGroup(f.Construct, jsii.String("Group"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:            p.Vpc,
		VpcSubnets:     subnets,
		LaunchTemplate: lt,
		MinCapacity:    jsii.Number(float64(p.MinCapacity)),
		MaxCapacity:    jsii.Number(float64(p.MaxCapacity)),
		HealthChecks: awsautoscaling.HealthChecks_WithAdditionalChecks(&awsautoscaling.AdditionalHealthChecksOptions{
			AdditionalTypes: &[]awsautoscaling.AdditionalHealthCheckType{awsautoscaling.AdditionalHealthCheckType_ELB},
			// Room for the bootstrap (packages, the self-check's minute of retries).
			GracePeriod: awscdk.Duration_Seconds(jsii.Number(300)),
		}),
		DefaultInstanceWarmup: awscdk.Duration_Seconds(jsii.Number(120)),
		// A new launch template version (config change) launches new instances
		// (up to the whole group, at 200 %) before the old ones go.
		// Each new instance must pass the NLB's health check within the
		// warmup before the next is replaced, and the group must stay healthy
		// for the bake time before CloudFormation calls the update done.
		UpdatePolicy: awsautoscaling.UpdatePolicy_InstanceRefresh(&awsautoscaling.InstanceRefreshOptions{
			Strategy:             awsautoscaling.InstanceRefreshStrategy_ROLLING,
			MinHealthyPercentage: jsii.Number(100),
			MaxHealthyPercentage: jsii.Number(200),
			InstanceWarmup:       awscdk.Duration_Seconds(jsii.Number(120)),
			BakeTime:             awscdk.Duration_Minutes(jsii.Number(3)),
		}),
		GroupMetrics: &[]awsautoscaling.GroupMetrics{awsautoscaling.GroupMetrics_All()},
		// Creation waits for minCapacity instances to pass their self-check
		// and signal; a missing or failed signal fails the deploy.
		Signals: awsautoscaling.Signals_WaitForMinCapacity(&awsautoscaling.SignalsOptions{
			Timeout: awscdk.Duration_Minutes(jsii.Number(15)),
		}),
	})
	groupID.group = f.asg
	// The first instances boot once their files are there; a change of the
	// files creates the new parameters before the group rolls.
	f.asg.Node().AddDependency(files...)
	awscdk.Annotations_Of(f.asg).AcknowledgeWarning(jsii.String("@aws-cdk/aws-autoscaling:signalsNotUsedByInstanceRefresh"),
		jsii.String("Creation waits for the signals; an instance refresh waits for the NLB health check instead, which the bootstrap's self-check gates (the ready file)."))
	// cfn-lint 1.51 predates the AutoScalingInstanceRefresh update policy
	// (CloudFormation, 2026; aws-cdk-lib 2.263) and reports it as E3016.
	f.asg.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cfn-lint"),
		map[string]any{"config": map[string]any{"ignore_checks": []string{"E3016"}}})
	nag.Suppress(f.asg, "AwsSolutions-AS3",
		"The proxies are stateless and replaced automatically behind the NLB; launches and terminations are visible in the group metrics (all enabled), CloudTrail and EventBridge, where operators subscribe without an SNS topic per region.")
	f.asg.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsautoscaling.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(float64(p.TargetCPUPercent)),
	})
	return f
}

// AL2023Parameter is AWS's public SSM parameter that names the newest
// Amazon Linux 2023 image for cpu (arm64 or x86_64).
func AL2023Parameter(arm bool) string {
	arch := "x86_64"
	if arm {
		arch = "arm64"
	}
	return "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-" + arch
}

// machineImage is the launch template's image: pinned (ImageID), AWS's
// newest re-resolved on every deploy (ImageLatest), or captured once per
// ImageGeneration.
func (f *NginxProxyFleet) machineImage(p settings, cpu awsec2.AmazonLinuxCpuType) awsec2.IMachineImage {
	if p.ImageLatest && p.ImageID == "" {
		return awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: cpu})
	}
	return &imageByID{id: f.imageID(p, cpu)}
}

// imageByID is a Linux image given by its id, a literal or a token; unlike
// MachineImage.genericLinux it needs no region, so the construct also works
// in a stack without an explicit environment.
type imageByID struct{ id *string }

// GetImage implements awsec2.IMachineImage.
func (i *imageByID) GetImage(constructs.Construct) *awsec2.MachineImageConfig {
	return &awsec2.MachineImageConfig{
		ImageId:  i.id,
		OsType:   awsec2.OperatingSystemType_LINUX,
		UserData: awsec2.UserData_ForLinux(nil),
	}
}

// imageID is the pinned image (ImageID) or the one captured once per
// ImageGeneration.
func (f *NginxProxyFleet) imageID(p settings, cpu awsec2.AmazonLinuxCpuType) *string {
	if p.ImageID != "" {
		return jsii.String(p.ImageID)
	}
	stack := awscdk.Stack_Of(f.Construct)
	param := AL2023Parameter(cpu == awsec2.AmazonLinuxCpuType_ARM_64)
	// The properties of this resource change only with the architecture or
	// the generation (or the serialized call, pinned by a test), so
	// CloudFormation calls it on the first deploy and on a deliberate roll,
	// never because AWS published an image.
	call := &customresources.AwsSdkCall{
		Service:            jsii.String("SSM"),
		Action:             jsii.String("getParameter"),
		Parameters:         map[string]any{"Name": param},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String(fmt.Sprintf("%s#generation-%d", param, p.ImageGeneration))),
		OutputPaths:        jsii.Strings("Parameter.Value"),
	}
	cr := customresources.NewAwsCustomResource(f.Construct, jsii.String("Image"), &customresources.AwsCustomResourceProps{
		OnCreate:            call,
		OnUpdate:            call,
		InstallLatestAwsSdk: jsii.Bool(false),
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
			// Public parameters belong to no account of yours: the account
			// field is a wildcard (which also matches the empty one).
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("ssm:GetParameter"),
				Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), jsii.Strings(
					"arn:", *awscdk.Aws_PARTITION(), ":ssm:", *stack.Region(), ":*:parameter"+param))),
			}),
		}),
	})
	nag.Suppress(cr, "AwsSolutions-IAM5",
		"The wildcard is the account field of AWS's public parameter (it has none); the statement reads that one parameter.",
		"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:*:parameter"+param,
		"Resource::arn:<AWS::Partition>:ssm:"+*stack.Region()+":*:parameter"+param)
	nag.SuppressAwsCustomResourceFunction(stack)
	return cr.GetResponseField(jsii.String("Parameter.Value"))
}

// logicalID produces the logical id of the group, set once it exists.
type logicalID struct {
	group awsautoscaling.AutoScalingGroup
}

// Produce implements awscdk.IStableStringProducer.
func (l *logicalID) Produce() *string {
	return awscdk.Stack_Of(l.group).GetLogicalId(l.group.Node().DefaultChild().(awscdk.CfnElement))
}

// settings are p's values with the defaults applied and each route's
// Upstream taken from its Alb, recording in chk what cannot describe a fleet.
func (p *Props) settings(chk *check.Props) settings {
	if p == nil {
		chk.Add("props", "is nil; pass &proxyfleet.Props{Vpc: ..., Routes: ..., UpstreamCidrs: ...}")
		return settings{}
	}
	out := settings{
		Vpc:                   p.Vpc,
		VpcSubnets:            p.VpcSubnets,
		UpstreamCidrs:         chk.Strings("props.UpstreamCidrs", p.UpstreamCidrs),
		InstanceType:          check.Str(p.InstanceType),
		MinCapacity:           chk.Int("props.MinCapacity", p.MinCapacity, DefaultMinCapacity),
		MaxCapacity:           chk.Int("props.MaxCapacity", p.MaxCapacity, DefaultMaxCapacity),
		TargetCPUPercent:      chk.Int("props.TargetCPUPercent", p.TargetCPUPercent, DefaultTargetCPUPercent),
		HealthPort:            chk.Int("props.HealthPort", p.HealthPort, DefaultHealthPort),
		Resolver:              check.Str(p.Resolver),
		ResolveInterval:       chk.Int("props.ResolveInterval", p.ResolveInterval, 10),
		RootVolumeGiB:         chk.Int("props.RootVolumeGiB", p.RootVolumeGiB, DefaultRootVolumeGiB),
		ImageID:               check.Str(p.ImageID),
		ImageLatest:           check.Bool(p.ImageLatest),
		LogGroupPrefix:        check.Str(p.LogGroupPrefix),
		LogRetentionDays:      chk.Int("props.LogRetentionDays", p.LogRetentionDays, 30),
		ImageGeneration:       chk.Int("props.ImageGeneration", p.ImageGeneration, 1),
		ProxyProtocol:         check.Bool(p.ProxyProtocol),
		DisableConsumerHeader: check.Bool(p.DisableConsumerHeader),
		TLSPassthrough:        check.Bool(p.TLSPassthrough),
	}
	if out.InstanceType == "" {
		out.InstanceType = DefaultInstanceType
	}
	if out.Resolver == "" {
		out.Resolver = DefaultResolver
	}
	for i, r := range check.List(chk, "props.Routes", p.Routes) {
		if r == nil {
			continue
		}
		field := fmt.Sprintf("props.Routes[%d]", i)
		cr := ConfigRoute{
			Name: check.Str(r.Name), Host: check.Str(r.Host), Upstream: check.Str(r.Upstream),
			Port: chk.Int(field+".Port", r.Port, 0), UpstreamPort: chk.Int(field+".UpstreamPort", r.UpstreamPort, 0),
			GRPC: check.Bool(r.GRPC), UpstreamTLS: check.Bool(r.UpstreamTLS), TLSPassthrough: check.Bool(r.TLSPassthrough),
		}
		if cr.Upstream == "" && r.Alb != nil {
			cr.Upstream = *r.Alb.LoadBalancerDnsName()
		}
		out.Routes = append(out.Routes, cr)
		out.Albs = append(out.Albs, r.Alb)
	}
	for i, c := range check.List(chk, "props.Consumers", p.Consumers) {
		if c == nil {
			continue
		}
		cs := consumer{account: check.Str(c.Account), region: check.Str(c.Region), name: check.Str(c.Name)}
		if cs.account == "" || cs.region == "" || cs.name == "" {
			chk.Add(fmt.Sprintf("props.Consumers[%d]", i), "has an empty Account, Region or Name; give all three")
		}
		out.Consumers = append(out.Consumers, cs)
	}
	out.check(chk)
	return out
}

// check records what in p (defaults applied) cannot describe a fleet.
func (p settings) check(chk *check.Props) {
	if p.Vpc == nil {
		chk.Add("props.Vpc", "is nil; give the VPC the proxies run in")
	}
	if len(p.Routes) == 0 {
		chk.Add("props.Routes", "is empty; give at least one service")
	}
	needCidrs := false
	for i, r := range p.Routes {
		field := fmt.Sprintf("props.Routes[%d]", i)
		chk.Literal(field+".Name", r.Name, "it names the nginx upstream and its file; give the literal name")
		chk.Literal(field+".Host", r.Host, "nginx's server_name needs it at synth; give the literal host name")
		if r.Name == "" {
			chk.Add(field+".Name", "is empty; give the service's name, a DNS label such as metrics")
		}
		if r.Host == "" {
			chk.Add(field+".Host", "is empty; give the host name agents send, such as metrics.observability.internal")
		}
		if r.Upstream == "" {
			chk.Add(field+".Upstream", "is empty; give the ALB's DNS name, or the ALB as Alb")
		}
		chk.Port(field+".Port", r.Port)
		chk.Port(field+".UpstreamPort", r.UpstreamPort)
		needCidrs = needCidrs || p.Albs[i] == nil
	}
	if needCidrs && len(p.UpstreamCidrs) == 0 {
		chk.Add("props.UpstreamCidrs", "is empty; give the CIDR of the cluster's VPC (only routes with an Alb need none)")
	}
	for i, c := range p.UpstreamCidrs {
		chk.CIDR(fmt.Sprintf("props.UpstreamCidrs[%d]", i), c)
	}
	if p.MinCapacity < 1 || p.MaxCapacity < p.MinCapacity {
		chk.Add("props.MinCapacity", "%d and MaxCapacity %d: need 1 <= MinCapacity <= MaxCapacity", p.MinCapacity, p.MaxCapacity)
	}
	if chk.Literal("props.InstanceType", p.InstanceType, "it picks the image's architecture; give the literal type") &&
		!reInstanceType.MatchString(p.InstanceType) {
		chk.Add("props.InstanceType", "%q is not an EC2 instance type; write it as t4g.small", p.InstanceType)
	}
	chk.Literal("props.LogGroupPrefix", p.LogGroupPrefix, "the proxies' files script, gzipped into SSM parameters, names the log groups; give a literal prefix")
	chk.Literal("props.Resolver", p.Resolver, "the instances' user data names it; give the literal address")
}

var reInstanceType = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)

// upstreamsAtDeploy reports whether a route's Upstream is a token.
func upstreamsAtDeploy(routes []ConfigRoute) bool {
	for _, r := range routes {
		if check.IsToken(r.Upstream) {
			return true
		}
	}
	return false
}

// ProxyProtocol reports whether the target groups and nginx use proxy protocol v2.
func (f *NginxProxyFleet) ProxyProtocol() bool { return f.proxyProtocol }

// consumerTable writes the consumer table into SSM parameters of at most
// 4,096 characters (the standard tier), <path>/0, <path>/1, ..., lets
// role read them and list the endpoint connections, and returns <path>.
func (f *NginxProxyFleet) consumerTable(role awsiam.Role, consumers []consumer) string {
	stack := awscdk.Stack_Of(f.Construct)
	path := "/obslink/" + *stack.StackName() + "/consumers"
	for i, chunk := range consumerTable(consumers) {
		awsssm.NewStringParameter(f.Construct, jsii.String(fmt.Sprintf("Consumers%d", i)), &awsssm.StringParameterProps{
			ParameterName: jsii.String(fmt.Sprintf("%s/%d", path, i)),
			StringValue:   jsii.String(chunk),
			Tier:          awsssm.ParameterTier_STANDARD,
			Description:   jsii.String("obslink: consumers' accounts, regions and names, for the proxies' logs and X-Obslink-Consumer"),
		})
	}
	arn := func(suffix string) string {
		return *awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", *awscdk.Aws_PARTITION(), ":ssm:", *stack.Region(), ":", *stack.Account(), ":parameter"+path+suffix))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ssm:GetParametersByPath"),
		Resources: jsii.Strings(arn(""), arn("/*")),
	}))
	// DescribeVpcEndpointConnections authorizes no resource type: "*" is the only form IAM takes.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeVpcEndpointConnections"),
		Resources: jsii.Strings("*"),
	}))
	nag.Suppress(role, "AwsSolutions-IAM5",
		"ec2:DescribeVpcEndpointConnections supports no resource-level permission (service authorization reference): it lists this account's endpoint connections, read-only; the SSM statement names the stack's own consumer parameters.",
		"Resource::*",
		"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter"+path+"/*",
		"Resource::arn:<AWS::Partition>:ssm:"+*stack.Region()+":"+*stack.Account()+":parameter"+path+"/*")
	return path
}

// filesParameters writes the files script's chunks into SSM parameters
// and lets role read the files of this fleet's stack (any version: an
// instance launched from the previous launch template during a rollout
// reads the previous files, until the update removes them), nothing else.
func (f *NginxProxyFleet) filesParameters(role awsiam.Role, params []Parameter, path string) []constructs.IDependable {
	stack := awscdk.Stack_Of(f.Construct)
	var out []constructs.IDependable
	for i, p := range params {
		out = append(out, awsssm.NewStringParameter(f.Construct, jsii.String(fmt.Sprintf("Files%d", i)), &awsssm.StringParameterProps{
			ParameterName: jsii.String(p.Name),
			StringValue:   jsii.String(p.Value),
			Tier:          awsssm.ParameterTier_STANDARD,
			Description:   jsii.String(fmt.Sprintf("obslink: the proxies' files script, gzipped and base64-encoded, part %d of %d", i+1, len(params))),
		}))
	}
	arn := func(suffix string) string {
		return *awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", *awscdk.Aws_PARTITION(), ":ssm:", *stack.Region(), ":", *stack.Account(), ":parameter"+path+suffix))
	}
	// The user data reads <path>/<hash>, which <path>/* matches: not <path>
	// itself, which would let it read every version at once.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ssm:GetParametersByPath"),
		Resources: jsii.Strings(arn("/*")),
	}))
	nag.Suppress(role, "AwsSolutions-IAM5",
		"The files' parameter names hold the hash of their content; the statement names this stack's files path only.",
		"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter"+path+"/*",
		"Resource::arn:<AWS::Partition>:ssm:"+*stack.Region()+":"+*stack.Account()+":parameter"+path+"/*")
	return out
}

// MaxParameterChars is the value limit of a standard-tier SSM parameter.
const MaxParameterChars = 4096

// ConsumerTable renders consumers as "<account> <region> <name>" lines,
// sorted, in chunks of whole lines of at most MaxParameterChars each
// (one "# no consumers" chunk when there are none: a parameter cannot be empty).
func ConsumerTable(consumers []Consumer) []string {
	plain := make([]consumer, len(consumers))
	for i, c := range consumers {
		plain[i] = consumer{account: check.Str(c.Account), region: check.Str(c.Region), name: check.Str(c.Name)}
	}
	return consumerTable(plain)
}

func consumerTable(consumers []consumer) []string {
	lines := make([]string, 0, len(consumers))
	for _, c := range consumers {
		lines = append(lines, c.account+" "+c.region+" "+c.name+"\n")
	}
	sort.Strings(lines)
	var chunks []string
	var b strings.Builder
	for _, l := range lines {
		if b.Len()+len(l) > MaxParameterChars {
			chunks = append(chunks, b.String())
			b.Reset()
		}
		b.WriteString(l)
	}
	if b.Len() > 0 || len(chunks) == 0 {
		if b.Len() == 0 {
			b.WriteString("# no consumers\n")
		}
		chunks = append(chunks, b.String())
	}
	return chunks
}

// AutoScalingGroup is the group of proxies.
func (f *NginxProxyFleet) AutoScalingGroup() awsautoscaling.AutoScalingGroup { return f.asg }

// Connections lets callers admit traffic: fleet.Connections().AllowFrom(nlb, port).
func (f *NginxProxyFleet) Connections() awsec2.Connections { return f.sg.Connections() }

// AccessLogGroup is the CloudWatch Logs group of nginx's access log (one
// JSON line per request), for metric filters.
func (f *NginxProxyFleet) AccessLogGroup() awslogs.ILogGroup { return f.accessLogs }

// NginxConfig is the rendered nginx.conf the instances run.
func (f *NginxProxyFleet) NginxConfig() string { return f.nginxConf }

// HealthPort is the port that answers GET /healthz.
func (f *NginxProxyFleet) HealthPort() int { return f.healthPort }

// AttachTo registers the fleet as the targets of listener on port, with
// health checks on /healthz, and admits traffic from the listener's load
// balancer. It returns the target group.
func (f *NginxProxyFleet) AttachTo(listener awselasticloadbalancingv2.NetworkListener, lb awsec2.IConnectable, port int) awselasticloadbalancingv2.NetworkTargetGroup {
	tg := listener.AddTargets(jsii.String("Fleet"), &awselasticloadbalancingv2.AddNetworkTargetsProps{
		Port:     jsii.Number(float64(port)),
		Protocol: awselasticloadbalancingv2.Protocol_TCP,
		Targets:  &[]awselasticloadbalancingv2.INetworkLoadBalancerTarget{f.asg},
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Protocol:                awselasticloadbalancingv2.Protocol_HTTP,
			Path:                    jsii.String("/healthz"),
			Port:                    jsii.String(fmt.Sprint(f.healthPort)),
			Interval:                awscdk.Duration_Seconds(jsii.Number(10)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(2),
		},
		// Agents batch over long-lived connections: give them time to finish on deregistration.
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(60)),
		// The consumer's VPC endpoint id reaches nginx in the header (health
		// checks carry one too). Always explicit: CloudFormation does not reset
		// an attribute removed from the template, so leaving "false" out would
		// keep the header on after a rollback or a switch back.
		ProxyProtocolV2: jsii.Bool(f.proxyProtocol),
	})
	f.Connections().AllowFrom(lb, awsec2.Port_Tcp(jsii.Number(float64(port))), jsii.String(fmt.Sprintf("NLB to proxies on %d", port)))
	f.Connections().AllowFrom(lb, awsec2.Port_Tcp(jsii.Number(float64(f.healthPort))), jsii.String("NLB health checks"))
	return tg
}

func upstreamPorts(routes []ConfigRoute) []int {
	all := make([]int, len(routes))
	for i, r := range routes {
		all[i] = r.UpstreamPort
	}
	return netutil.Ports(all)
}

var graviton = regexp.MustCompile(`^[a-z]+[0-9]+g[a-z]*\.`)

// IsGraviton reports whether an EC2 instance type runs on AWS Graviton (arm64).
func IsGraviton(instanceType string) bool { return graviton.MatchString(instanceType) }
