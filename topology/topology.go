// Package topology is the model of an obslink topology file: which account and
// region hold the observability cluster, which services it ingests, which
// regions get a PrivateLink provider and which consumer VPCs reach it.
//
// Load parses and validates a file in pure Go (no jsii, no AWS calls) and
// reports every problem at once, each with the file, line, field path and value.
package topology

import (
	"reflect"
	"sort"
	"strings"
)

// InterRegion names how provider regions outside the main region reach the cluster.
type InterRegion string

// The inter-region modes a topology file may name in interRegion.
const (
	// Peering joins each provider VPC to the cluster VPC with VPC peering (hub and spoke).
	Peering InterRegion = "peering"
	// TGW joins regions with one Transit Gateway per region and TGW peering.
	TGW InterRegion = "tgw"
	// Native uses cross-region PrivateLink: one provider in the main region serves all regions.
	Native InterRegion = "native"
)

// Transit Gateway meshes a topology file may name in tgwMesh.
const (
	// MeshHub peers each region's gateway with the main region's only.
	MeshHub = "hub"
	// MeshFull also peers every pair of the other regions' gateways.
	MeshFull = "full"
)

// Protocols a service may use between agents and the cluster.
const (
	ProtocolHTTP = "http"
	ProtocolGRPC = "grpc"
)

// Defaults applied by Load to fields the file leaves out.
const (
	DefaultDomain       = "observability.internal"
	DefaultInterRegion  = Peering
	DefaultInstanceType = "t4g.small"
	DefaultMinCapacity  = 2
	DefaultMaxCapacity  = 4
	DefaultHTTPPort     = 80
	DefaultGRPCPort     = 4317
	// HealthCheckPort is where each proxy answers the NLB's health checks; no service may use it.
	HealthCheckPort = 8080
)

// Topology is one obslink deployment: a cluster, its services, its provider
// regions and its consumers.
type Topology struct {
	// Name prefixes every stack name: 1-31 lower-case letters, digits and
	// '-', starting with a letter. Required.
	// Changing it renames every stack: new stacks, and the old ones to
	// delete (obslink diff-stacks).
	Name string `yaml:"name,omitempty" jsonschema:"required" replaces:"stack"`
	// Domain is the private DNS domain agents use. Default: observability.internal.
	// Changing it replaces every consumer's private hosted zone (agents'
	// names resolve again once the consumer stacks are deployed) and rolls
	// the proxies (an instance refresh).
	Domain string `yaml:"domain,omitempty" replaces:"AWS::Route53::HostedZone proxies"`
	// TLS is every service's tls unless the service sets its own:
	// passthrough when agents speak TLS to <service>.<domain> and the
	// proxies route each connection by its SNI to the service's ALB HTTPS
	// listener without terminating it (such a service needs upstreamTls;
	// its port defaults to 443; no consumerHeader on it), none when agents
	// speak HTTP to the proxies, which route by Host. Default: none.
	// Changing it rolls the proxies (an instance refresh) and, with default
	// ports, moves services to other NLB listeners: change the agents at the
	// same time.
	TLS string `yaml:"tls,omitempty" jsonschema:"enum=passthrough,enum=none" replaces:"proxies"`
	// InterRegion picks how provider regions reach the main region: peering
	// (VPC peering with the cluster VPC), tgw (a Transit Gateway per region,
	// peered) or native (cross-region PrivateLink: the main region's
	// provider serves every region). Default: peering.
	// Changing it is a migration (peering and native providers' links go,
	// tgw's gateways come, or the reverse): see docs/modes/inter-region.md.
	InterRegion InterRegion `yaml:"interRegion,omitempty" jsonschema:"enum=peering,enum=tgw,enum=native"`
	// TGWMesh picks, for interRegion tgw, how the regions' gateways are peered:
	// hub (each with the main region's) or full (also every pair of the
	// others). Ignored, with a warning, outside tgw. Default: hub.
	TGWMesh string `yaml:"tgwMesh,omitempty" jsonschema:"enum=hub,enum=full"`
	// ControlPlane is where the observability cluster runs. Required.
	ControlPlane ControlPlane `yaml:"controlPlane,omitempty" jsonschema:"required"`
	// Services are the cluster's ingestion endpoints, one ALB each.
	// Required: at least one.
	Services []Service `yaml:"services,omitempty" jsonschema:"required,minItems=1"`
	// Regions are the provider VPCs, one per region that has consumers. In
	// proxy.mode none they are ignored (an entry for the main region may
	// stay for proxy.mode nginx), and after loading this holds one entry
	// for the main region (its zones: controlPlane.vpc's; no CIDR, since
	// obslink creates no VPC there). Required with proxies: at least one.
	Regions []Region `yaml:"regions,omitempty"`
	// Proxy picks the proxy mode and sizes the nginx fleet in each
	// provider region. Default: its keys' defaults.
	Proxy Proxy `yaml:"proxy,omitempty"`
	// Consumers are the VPCs whose agents push to the cluster. Required
	// unless consumerGroups lists some: at least one.
	Consumers []Consumer `yaml:"consumers,omitempty"`
	// Monitoring sets the provider regions' alarm thresholds and where
	// alarms notify. Default: its keys' defaults.
	Monitoring Monitoring `yaml:"monitoring,omitempty"`
	// ConsumerDeployment is how consumers are deployed: stacks (one CDK
	// stack per consumer, cdk deploy with the CDK bootstrapped in each
	// account) or stacksets (stack instances of a service-managed
	// CloudFormation StackSet, no bootstrap in member accounts; needs
	// controlPlane.organizationId and organizationRootId; consumers then
	// give no vpc: it comes from SSM). Default: stacks.
	// Changing it is a migration: every consumer moves between a stack of
	// its own and the StackSet, with a new endpoint (see
	// docs/modes/consumer-deployment.md).
	ConsumerDeployment string `yaml:"consumerDeployment,omitempty" jsonschema:"enum=stacks,enum=stacksets"`
	// StackSets tunes how CloudFormation rolls the StackSet out (stacksets
	// only). Default: its keys' defaults.
	StackSets StackSets `yaml:"stackSets,omitempty"`
	// ConsumerGroups are consumers by organizational unit (stacksets only):
	// every account of the OUs, now and later, in the listed regions.
	// Default: none.
	ConsumerGroups []ConsumerGroup `yaml:"consumerGroups,omitempty"`

	// completed: validated, defaults applied (Complete).
	completed bool
	// warnings: what Complete found ignored (Warnings).
	warnings []FieldError
}

// ConsumerGroup is every account of some organizational units, connected in
// some regions, each into the VPC its account baseline names in SSM.
type ConsumerGroup struct {
	// Name is a DNS label of 1-40 characters, unique among consumers and
	// groups. Required.
	Name string `yaml:"name,omitempty" jsonschema:"required"`
	// OrganizationalUnitIDs are OU ids, each matching
	// ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$ (such as ou-ab12-cdefgh34): their
	// accounts, and those of their child OUs, get a stack instance,
	// including accounts that join later; not the root. Required: at least
	// one.
	OrganizationalUnitIDs []string `yaml:"organizationalUnitIds,omitempty" jsonschema:"required,minItems=1"`
	// Regions where each account connects; each needs a provider (or
	// native). Required: at least one.
	Regions []string `yaml:"regions,omitempty" jsonschema:"required,minItems=1"`
	// VPCParameters names the SSM parameters, in each member account and
	// region, that hold the VPC. Groups with the same names share a
	// StackSet, whose own parameters they are. Default: its keys' defaults.
	VPCParameters VPCParameters `yaml:"vpcParameters,omitempty"`
	// ExcludeAccounts are accounts of the OUs that get no stack instance
	// (an existing one is removed) and whose endpoints the providers
	// reject, while they stay in their OU. Default: none.
	ExcludeAccounts []string `yaml:"excludeAccounts,omitempty"`
	// ExpectedAccounts is how many accounts the OUs hold, excluded ones
	// included, for obslink plan only (each account not excluded connects
	// in every region of the group). Default: 0, and plan asks for it.
	ExpectedAccounts int `yaml:"expectedAccounts,omitempty"`
}

// VPCParameters are names of SSM parameters an account baseline writes.
type VPCParameters struct {
	// VpcID holds the VPC id. Default: /obslink/vpc-id.
	VpcID string `yaml:"vpcId,omitempty"`
	// SubnetIDs holds the endpoint's subnet ids, comma-separated (a
	// StringList). Default: /obslink/subnet-ids.
	SubnetIDs string `yaml:"subnetIds,omitempty"`
	// CIDR holds the VPC's CIDR. Default: /obslink/vpc-cidr.
	CIDR string `yaml:"cidr,omitempty"`
}

// MaxOUsPerOperation is how many OUs one CreateStackInstances,
// UpdateStackInstances or DeleteStackInstances call accepts. The StackSet
// resource's handler merges the OUs of instance groups with the same
// regions and parameters into one call, so groups that share
// vpcParameters and regions count together.
const MaxOUsPerOperation = 50

// Default SSM parameter names of VPCParameters.
const (
	DefaultVpcIDParameter     = "/obslink/vpc-id"
	DefaultSubnetIDsParameter = "/obslink/subnet-ids"
	DefaultCIDRParameter      = "/obslink/vpc-cidr"
)

// Names are the parameter names after defaults: vpc id, subnet ids, cidr.
func (v VPCParameters) Names() (vpcID, subnetIDs, cidr string) {
	return orDefault(v.VpcID, DefaultVpcIDParameter), orDefault(v.SubnetIDs, DefaultSubnetIDsParameter), orDefault(v.CIDR, DefaultCIDRParameter)
}

// GroupsServedBy returns the consumer groups with a region the provider in
// region serves.
func (t *Topology) GroupsServedBy(region string) []ConsumerGroup {
	var out []ConsumerGroup
	for _, g := range t.ConsumerGroups {
		for _, r := range g.Regions {
			if t.ProviderRegionFor(r) == region {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Consumer deployments a topology file may name in consumerDeployment.
const (
	DeployStacks    = "stacks"
	DeployStackSets = "stacksets"
)

// StackSetsEnabled reports whether consumers are StackSet instances.
func (t *Topology) StackSetsEnabled() bool { return t.ConsumerDeployment == DeployStackSets }

// StackSets are the StackSet's operation preferences.
type StackSets struct {
	// RegionConcurrency: PARALLEL (every region at once) or SEQUENTIAL.
	// Default: PARALLEL.
	RegionConcurrency string `yaml:"regionConcurrency,omitempty" jsonschema:"enum=PARALLEL,enum=SEQUENTIAL"`
	// MaxConcurrentPercentage of the accounts deployed at once per region,
	// 1 to 100, rounded down but at least 1 account (ConcurrencyMode is
	// SOFT_FAILURE_TOLERANCE, so the failure tolerance does not cap it).
	// Default: 25.
	MaxConcurrentPercentage *int `yaml:"maxConcurrentPercentage,omitempty"`
	// FailureTolerancePercentage of accounts per region that may fail
	// before CloudFormation stops the operation there, 0 to 100.
	// Default: 10.
	FailureTolerancePercentage *int `yaml:"failureTolerancePercentage,omitempty"`
}

// Concurrency is RegionConcurrency after defaults.
func (s StackSets) Concurrency() string { return orDefault(s.RegionConcurrency, "PARALLEL") }

// MaxConcurrent is MaxConcurrentPercentage after defaults.
func (s StackSets) MaxConcurrent() int { return derefOr(s.MaxConcurrentPercentage, 25) }

// FailureTolerance is FailureTolerancePercentage after defaults.
func (s StackSets) FailureTolerance() int { return derefOr(s.FailureTolerancePercentage, 10) }

// Monitoring configures each provider region's alarms and dashboard.
type Monitoring struct {
	// AlarmTopicArn is an SNS topic for alarm and OK notifications. Alarms
	// notify topics of their own region, so each provider region uses the
	// topic of this ARN's account and name in its region: create the topic
	// in every provider region; in another account than the providers', its
	// policy must let cloudwatch.amazonaws.com publish. Default: none
	// (alarms without actions).
	AlarmTopicArn string `yaml:"alarmTopicArn,omitempty"`
	// MinHealthyHosts: fewer healthy proxies in a target group alarm; at most
	// proxy.minCapacity (in proxy.mode none, where a target group holds one
	// ALB, at most 1). Default: 1.
	MinHealthyHosts *int `yaml:"minHealthyHosts,omitempty"`
	// TargetResets: more TCP resets from the proxies in 5 minutes alarm.
	// Default: 100.
	TargetResets *int `yaml:"targetResets,omitempty"`
	// CPUPercent: average proxy CPU above it alarms; keep it above the
	// group's scaling target (50): 51 to 100. Default: 80.
	CPUPercent *int `yaml:"cpuPercent,omitempty"`
	// EvaluationMinutes: how long a condition holds before an alarm fires.
	// Default: 5.
	EvaluationMinutes *int `yaml:"evaluationMinutes,omitempty"`
	// UpstreamErrors: more requests of one service answered 5xx by its ALB,
	// or not at all, in 5 minutes alarm. Default: 10.
	UpstreamErrors *int `yaml:"upstreamErrors,omitempty"`
	// NetworkPercent: a proxy's average network traffic (the larger of in
	// and out) above this share of its instance type's baseline bandwidth
	// alarms: 1 to 100. Default: 80.
	NetworkPercent *int `yaml:"networkPercent,omitempty"`
	// NetworkBaselineMbps is the proxies' instance type's baseline network
	// bandwidth, each way. Default: obslink's table (t3, t3a and t4g); for other
	// types, no network alarm unless it is given.
	NetworkBaselineMbps *int `yaml:"networkBaselineMbps,omitempty"`
}

// AlarmTopicArnIn is the alarm topic's ARN in region: the same account and
// name, or "" without a topic.
func (m Monitoring) AlarmTopicArnIn(region string) string {
	parts := strings.Split(m.AlarmTopicArn, ":")
	if len(parts) != 6 {
		return ""
	}
	parts[3] = region
	return strings.Join(parts, ":")
}

// ControlPlane is the observability cluster's account, main region and VPC.
type ControlPlane struct {
	// Account is the 12-digit account of the cluster (and of the providers,
	// unless providerAccount), in quotes. Required.
	// Changing it moves the cluster's stacks (and the providers', unless
	// providerAccount) to that account: new stacks, the old ones to delete,
	// and every consumer's endpoint is replaced.
	Account string `yaml:"account,omitempty" jsonschema:"required,pattern=^[0-9]{12}$" replaces:"stack AWS::EC2::VPCEndpoint"`
	// Region is the main region, the cluster's. Required.
	// Changing it is a migration: the cluster's stacks and the main
	// region's move (new stacks, the old ones to delete).
	Region string `yaml:"region,omitempty" jsonschema:"required"`
	// VPC is the cluster's existing VPC, where its ALBs are. Required.
	VPC ClusterVPC `yaml:"vpc,omitempty" jsonschema:"required"`
	// ProviderAccount holds the provider stacks (proxies, NLBs, endpoint
	// services), e.g. a network account. Default: Account. With another
	// account, the cluster account gets <name>-peering-accepter, a role that
	// only the provider account's CloudFormation execution roles (of the
	// provider regions) may assume, and only to accept peerings into the
	// cluster VPC (ec2:AccepterVpc) from VPCs of the provider account
	// (ec2:RequesterVpc) (peering and native; not tgw). Refused with
	// proxy.mode none, where the NLB must be in the ALBs' account.
	// Changing it moves the provider stacks to that account: new stacks, the
	// old ones to delete, and every consumer's endpoint is replaced.
	ProviderAccount string `yaml:"providerAccount,omitempty" jsonschema:"pattern=^[0-9]{12}$" replaces:"stack AWS::EC2::VPCEndpoint"`
	// OrganizationID is the AWS Organizations id (o- and 10-32 lower-case
	// letters or digits) of the reading accounts: the consumers, and the
	// cluster account with providerAccount. With it, each provider publishes
	// its outputs through one role, <name>-reader-<region>, whose trust
	// admits the organization's CloudFormation execution roles (constant
	// size); without it, the trust lists every reading account, which IAM's
	// 2,048-character quota caps at about 24 reading accounts per provider
	// (validation says when). Required with stacksets. Default: none.
	// Changing it replaces every consumer's endpoint (its stack reads the
	// provider's outputs through another role).
	OrganizationID string `yaml:"organizationId,omitempty" replaces:"AWS::EC2::VPCEndpoint"`
	// OrganizationRootID is the organization's root id, matching
	// ^r-[0-9a-z]{4,32}$ (such as r-ab12): with
	// consumerDeployment stacksets, named consumers' accounts are targeted
	// through it (service-managed StackSets target accounts within OUs).
	// Required with stacksets.
	OrganizationRootID string `yaml:"organizationRootId,omitempty"`
	// StackSetAdministrator is the account that holds the StackSet (stacksets
	// only): a delegated administrator for CloudFormation StackSets, or the
	// organization's management account. Default: Account.
	// Changing it moves the StackSet stack to that account: a new stack, and
	// the old one to delete.
	StackSetAdministrator string `yaml:"stackSetAdministrator,omitempty" jsonschema:"pattern=^[0-9]{12}$" replaces:"stack"`
	// StackSetCallAs is how that account calls StackSets: DELEGATED_ADMIN or
	// SELF (the management account). Default: DELEGATED_ADMIN.
	StackSetCallAs string `yaml:"stackSetCallAs,omitempty" jsonschema:"enum=DELEGATED_ADMIN,enum=SELF"`
}

// StackSetAccount is the account of the StackSet stack.
func (c ControlPlane) StackSetAccount() string { return orDefault(c.StackSetAdministrator, c.Account) }

// CallAs is StackSetCallAs after defaults.
func (c ControlPlane) CallAs() string { return orDefault(c.StackSetCallAs, "DELEGATED_ADMIN") }

// ProviderAccountID is the account of the provider stacks.
func (c ControlPlane) ProviderAccountID() string {
	if c.ProviderAccount != "" {
		return c.ProviderAccount
	}
	return c.Account
}

// CrossAccountProviders reports whether the providers live in another
// account than the cluster.
func (c ControlPlane) CrossAccountProviders() bool { return c.ProviderAccountID() != c.Account }

// ClusterVPC is the existing VPC of the cluster's ALBs, imported by attributes.
type ClusterVPC struct {
	// ID of the cluster's VPC (vpc-...). Required.
	// Changing it replaces every provider's peering with the cluster VPC.
	ID string `yaml:"id,omitempty" jsonschema:"required" replaces:"AWS::EC2::VPCPeeringConnection"`
	// CIDR of the cluster's VPC; provider CIDRs must not overlap it. Required.
	// Changing it replaces the provider VPCs' routes to it.
	CIDR string `yaml:"cidr,omitempty" jsonschema:"required"`
	// RouteTableIDs are the route tables of the ALB subnets; obslink adds the
	// return routes to the provider CIDRs there (peering, tgw, native).
	// Ignored, with a warning, in proxy.mode none (no routes).
	// Required with proxies (proxy.mode nginx).
	RouteTableIDs []string `yaml:"routeTableIds,omitempty"`
	// SubnetIDs are the subnets of the cluster VPC's Transit Gateway
	// attachment (tgw) or of the endpoint service's NLB (proxy.mode none),
	// one per zone, in the ALBs' zones for the NLB. Ignored, with a warning,
	// in the other modes. Required for tgw and proxy.mode none.
	// Changing it, with tgw, replaces the cluster VPC's Transit Gateway
	// attachment and its route table association.
	SubnetIDs []string `yaml:"subnetIds,omitempty" replaces:"AWS::EC2::TransitGatewayVpcAttachment AWS::EC2::TransitGatewayRouteTableAssociation"`
	// AvailabilityZones are the zones of SubnetIDs, in the same order.
	// Ignored, with a warning, in the other modes. Required in proxy.mode none, where the endpoint service's NLB lives
	// in those subnets.
	AvailabilityZones []string `yaml:"availabilityZones,omitempty"`
	// ALBSecurityGroupIDs are the ALBs' security groups; obslink adds ingress
	// rules from the provider CIDRs on the upstream ports (in proxy.mode
	// none, from the NLB's security group). Without such a rule the
	// proxies' connections are dropped while the NLB's health check,
	// answered by nginx, stays green. Required unless ALBIngress is
	// manual.
	ALBSecurityGroupIDs []string `yaml:"albSecurityGroupIds,omitempty"`
	// ALBIngress is manual when the operator opens the ALBs to the provider
	// CIDRs on the upstream ports (and albSecurityGroupIds is left out). In
	// proxy.mode none the operator opens them to the provider stack's
	// output LoadBalancerSecurityGroupId instead. Default: obslink adds the
	// rules to albSecurityGroupIds.
	ALBIngress string `yaml:"albIngress,omitempty" jsonschema:"enum=manual"`
}

// ALBIngressManual is the albIngress setting of an operator who opens the
// ALBs to the proxies.
const ALBIngressManual = "manual"

// Service is one ingestion endpoint of the cluster, reached by agents as
// <name>.<domain> and proxied to Upstream.
type Service struct {
	// Name is a DNS label, unique: agents use <name>.<domain>. Required.
	// Changing it renames the service for agents (a new DNS record, the old
	// one goes) and rolls the proxies (an instance refresh).
	Name string `yaml:"name,omitempty" jsonschema:"required" replaces:"proxies"`
	// Upstream is the DNS name of the service's ALB in the main region (no
	// scheme, no IP). Ignored, with a warning, in proxy.mode none, where the
	// NLB reaches the ALB by albArn. Required with proxies (proxy.mode
	// nginx).
	// Changing it rolls the proxies (an instance refresh).
	Upstream string `yaml:"upstream,omitempty" replaces:"proxies"`
	// Port is where agents connect (NLB listener and proxy). Port 8080 is
	// reserved for the proxies' health checks (not in proxy.mode none).
	// HTTP and gRPC services need different ports (unless both pass TLS
	// through), and so do a passthrough and an HTTP service; in proxy.mode
	// none every service needs its own. Default: 443 with tls passthrough,
	// else 80 for http and 4317 for grpc.
	// Changing it adds an NLB listener and target group for the new port
	// (and removes the old port's when no other service uses it) and rolls
	// the proxies (an instance refresh): change the agents at the same time.
	Port int `yaml:"port,omitempty" replaces:"proxies"`
	// UpstreamPort is the ALB listener port. In proxy.mode none it is
	// required, and must be a listener the ALB already has: the NLB target
	// group's port. Default: Port.
	// Changing it rolls the proxies (an instance refresh).
	UpstreamPort int `yaml:"upstreamPort,omitempty" replaces:"proxies"`
	// Protocol agents speak: http, or grpc (cleartext HTTP/2 to the proxy;
	// needs UpstreamTLS, since an ALB speaks HTTP/2 only over HTTPS). With
	// tls passthrough agents speak TLS to the ALB, which proxy.mode none
	// requires for grpc. Default: http.
	// Changing it rolls the proxies (an instance refresh) and, with a
	// default port, moves the service to another NLB listener.
	Protocol string `yaml:"protocol,omitempty" jsonschema:"enum=http,enum=grpc" replaces:"proxies"`
	// UpstreamTLS makes the proxy speak TLS to the ALB's HTTPS listener (an
	// ALB speaks HTTP/2, and so gRPC, only over HTTPS); set upstreamPort to
	// that listener's port. Required for grpc. Default: false.
	// Changing it rolls the proxies (an instance refresh).
	UpstreamTLS bool `yaml:"upstreamTls,omitempty" replaces:"proxies"`
	// ALBArn is the ARN of the service's ALB, in the cluster VPC and
	// account: proxy.mode none registers it in an ALB-type target group of
	// the NLB on upstreamPort (the ALB listener's port). It names
	// ...:loadbalancer/app/<name>/<id> in controlPlane.region and
	// controlPlane.account: an NLB targets only an ALB of its own VPC and
	// account. Several services may share an ALB (a target group each), and
	// proxy.mode none serves at most 5 services. Ignored, with a warning,
	// with proxies. Required in proxy.mode none, unused otherwise.
	ALBArn string `yaml:"albArn,omitempty"`
	// TLS overrides the topology's tls for this service: passthrough (agents
	// speak TLS through the proxies to the ALB's HTTPS listener, routed by
	// SNI) or none (agents speak HTTP to the proxies, which route by Host),
	// so that plain-HTTP and passthrough services share the providers; they
	// cannot share a port. Proxy.consumerHeader true needs an HTTP service.
	// Default: the topology's tls.
	// Changing it rolls the proxies (an instance refresh) and, with a
	// default port, moves the service to another NLB listener.
	TLS string `yaml:"tls,omitempty" jsonschema:"enum=passthrough,enum=none" replaces:"proxies"`
	// HealthCheckPath is what the NLB asks the ALB for in proxy.mode none;
	// the ALB must answer it with 200-399 (a fixed-response rule does).
	// Default: "/". Ignored, with a warning, with proxies (the NLB checks
	// their own /healthz).
	HealthCheckPath string `yaml:"healthCheckPath,omitempty"`
}

// MaxProxylessServices is how many services proxy.mode none can serve: an
// ALB target counts as 100 of an NLB's 500 targets per zone with
// cross-zone load balancing on (an adjustable AWS quota).
const MaxProxylessServices = 5

// Host is the name agents use for the service: <name>.<domain>.
func (s Service) Host(domain string) string { return s.Name + "." + domain }

// Region is a provider VPC in one region.
type Region struct {
	// Region with a provider, one entry per region. Required.
	// Changing it makes another provider: a new stack, and the old one to
	// delete.
	Region string `yaml:"region,omitempty" jsonschema:"required" replaces:"stack"`
	// CIDR of the provider VPC, /16 to /28, split into one subnet per zone;
	// each must hold the NLB, the endpoints and the proxies (validation
	// computes it). It must not overlap the cluster VPC or other providers.
	// Empty in the entry proxy.mode none adds (no provider VPC). Required.
	// Changing it replaces the provider VPC and with it its subnets, its
	// proxies' group and NLB targets, its peering (tgw: attachment) and
	// every endpoint of its consumers: an outage for the region's
	// consumers.
	CIDR string `yaml:"cidr,omitempty" jsonschema:"required" replaces:"AWS::EC2::VPC AWS::EC2::Subnet AWS::EC2::VPCEndpoint AWS::EC2::VPCPeeringConnection"`
	// AvailabilityZones of the provider VPC, at least 2: every zone of the
	// region, as names (us-east-1a) or, better, zone ids (use1-az1), which
	// name the same zone in every account, not mixed. A consumer's endpoint
	// can use only zones the provider's NLB is in. Required.
	// Changing it replaces every subnet of the provider when the zone count
	// crosses a power of two (the CIDR is split anew), and with tgw the
	// provider's Transit Gateway attachment on any change.
	AvailabilityZones []string `yaml:"availabilityZones,omitempty" jsonschema:"required,minItems=2" replaces:"AWS::EC2::Subnet"`
	// ASN of the region's Transit Gateway (tgw; ignored, with a warning,
	// otherwise). The main region's entry sets the hub's; all must be
	// distinct. Default: from a fixed table
	// of AWS regions (DefaultASN); required for a region missing from it.
	// Changing it replaces the region's Transit Gateway, its attachments,
	// peerings and route tables: an outage for the region.
	ASN int64 `yaml:"asn,omitempty" replaces:"AWS::EC2::TransitGateway AWS::EC2::TransitGatewayVpcAttachment AWS::EC2::TransitGatewayPeeringAttachment AWS::EC2::TransitGatewayRouteTable AWS::EC2::TransitGatewayRouteTableAssociation"`
}

// knownRegions is append-only: a region's position is its default ASN
// offset, so existing Transit Gateways never change ASN.
var knownRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
	"ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
	"il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
	"us-gov-east-1", "us-gov-west-1", "ap-east-2", "ap-southeast-6",
}

// DefaultASN is the Transit Gateway ASN obslink gives a region, 64512 plus
// its position in a fixed table, or 0 for a region not in the table.
func DefaultASN(region string) int64 {
	for i, r := range knownRegions {
		if r == region {
			return 64512 + int64(i)
		}
	}
	return 0
}

// TransitGatewayASN is the ASN of region's Transit Gateway: the regions entry's
// asn, else DefaultASN.
func (t *Topology) TransitGatewayASN(region string) int64 {
	if r, ok := t.Region(region); ok && r.ASN != 0 {
		return r.ASN
	}
	return DefaultASN(region)
}

// Proxy sizes the nginx reverse-proxy fleet of every provider region.
type Proxy struct {
	// Mode is nginx (a proxy fleet per provider region, routing by host
	// name) or none: no proxies at all, an endpoint service in the cluster
	// VPC whose NLB forwards each service's port straight to its ALB
	// (services[].albArn), consumers in every region on cross-region
	// PrivateLink (needs interRegion: native). None also needs
	// services[].albArn, a distinct port per service, and
	// controlPlane.vpc.subnetIds and availabilityZones; it ignores, with a
	// warning each, the main region's regions entry, every other proxy key
	// and the proxies' monitoring keys. Default: nginx.
	// Changing it is a migration with an outage: see docs/modes/proxy.md,
	// Proxyless.
	Mode string `yaml:"mode,omitempty" jsonschema:"enum=nginx,enum=none"`
	// InstanceType of the proxies; Graviton types (t4g, m7g, ...) run arm64. Default: t4g.small.
	// Changing it rolls the proxies (an instance refresh).
	InstanceType string `yaml:"instanceType,omitempty" replaces:"proxies"`
	// MinCapacity is the fleet's minimum size, at least 1. Default: 2.
	MinCapacity *int `yaml:"minCapacity,omitempty"`
	// MaxCapacity is the fleet's maximum size, minCapacity to 100. Default: 4.
	MaxCapacity *int `yaml:"maxCapacity,omitempty"`
	// Image is where the proxies' Amazon Linux 2023 image comes from:
	// captured (the newest image, taken once at the first deploy and kept
	// until imageGeneration changes) or latest (resolved by CloudFormation on
	// every deploy, so any update after AWS publishes an image replaces the
	// fleet). Default: captured.
	// Changing it rolls the proxies (an instance refresh).
	Image string `yaml:"image,omitempty" jsonschema:"enum=captured,enum=latest" replaces:"proxies"`
	// ImageGeneration names the captured image: raise it to roll every
	// region's fleet onto the then-newest image at the next deploy. Default: 1.
	// Changing it rolls every captured fleet at the next deploy, when the
	// custom resource captures the new image (obslink diff cannot see it).
	ImageGeneration *int `yaml:"imageGeneration,omitempty"`
	// ImageIDs pins the image of a provider region (region: ami-...); a pinned
	// region ignores image and imageGeneration. Refused with image latest.
	// Default: none.
	// Changing it rolls that region's proxies (an instance refresh).
	ImageIDs map[string]string `yaml:"imageIds,omitempty" replaces:"proxies"`
	// ProxyProtocol turns on proxy protocol v2 between the NLB and the
	// proxies: nginx learns each request's VPC endpoint id and logs the
	// consumer's name. It is off by default since switching it on for a
	// running provider interrupts traffic during the instance refresh; the
	// default topology and the examples turn it on. It adds an EC2
	// interface endpoint to the provider VPC. Default: false.
	// Changing it rolls the proxies (an instance refresh) and interrupts
	// traffic until every proxy is replaced.
	ProxyProtocol *bool `yaml:"proxyProtocol,omitempty" replaces:"proxies"`
	// ConsumerHeader passes the consumer's name to the ALBs in
	// X-Obslink-Consumer (needs proxyProtocol). Default: true with
	// proxyProtocol, false without.
	// Changing it rolls the proxies (an instance refresh).
	ConsumerHeader *bool `yaml:"consumerHeader,omitempty" replaces:"proxies"`
}

// Proxy modes a topology file may name in proxy.mode.
const (
	ProxyModeNginx = "nginx"
	ProxyModeNone  = "none"
)

// Proxyless reports whether the topology has no proxies (proxy.mode none):
// the cluster VPC's NLB targets the ALBs directly.
func (t *Topology) Proxyless() bool { return t.Proxy.Mode == ProxyModeNone }

// Attribution reports whether the proxies learn the consumer (proxy protocol v2).
func (p Proxy) Attribution() bool { return p.ProxyProtocol != nil && *p.ProxyProtocol }

// Header reports whether the proxies pass X-Obslink-Consumer to the ALBs.
func (p Proxy) Header() bool {
	return p.Attribution() && (p.ConsumerHeader == nil || *p.ConsumerHeader)
}

// Proxy image sources a topology file may name in proxy.image.
const (
	ImageCaptured = "captured"
	ImageLatest   = "latest"
)

// Generation is the captured image's generation after defaults.
func (p Proxy) Generation() int { return derefOr(p.ImageGeneration, 1) }

// Min is the fleet's minimum size after defaults.
func (p Proxy) Min() int { return derefOr(p.MinCapacity, DefaultMinCapacity) }

// Max is the fleet's maximum size after defaults.
func (p Proxy) Max() int { return derefOr(p.MaxCapacity, DefaultMaxCapacity) }

// Consumer is one VPC whose agents push to the cluster.
type Consumer struct {
	// Name is a DNS label of 1-40 characters, unique in the file; it names
	// the consumer's stack. Required.
	// Changing it renames the consumer's stack: a new stack with a new
	// endpoint and zone, and the old one to delete.
	Name string `yaml:"name,omitempty" jsonschema:"required" replaces:"stack"`
	// Account is the consumer's 12-digit account, in quotes. Required.
	// Changing it moves the consumer's stack: a new stack, and the old one
	// to delete.
	Account string `yaml:"account,omitempty" jsonschema:"required,pattern=^[0-9]{12}$" replaces:"stack"`
	// Region of the consumer's VPC; it needs a provider there (regions), or
	// interRegion native. Required.
	// Changing it moves the consumer's stack: a new stack, and the old one
	// to delete.
	Region string `yaml:"region,omitempty" jsonschema:"required" replaces:"stack"`
	// VPC is where the consumer's endpoint goes: a VPC obslink creates, or
	// an existing one (id). With consumerDeployment stacksets it comes from
	// SSM and is refused here. Required with stacks.
	VPC ConsumerVPC `yaml:"vpc,omitempty"`
	// AllowedCIDRs may connect to the endpoint. Default: the VPC's CIDR.
	AllowedCIDRs []string `yaml:"allowedCidrs,omitempty"`
	// AssociatedVPCIDs are more VPCs of the same account and region whose
	// agents use this consumer's endpoint (they need a network path to it, and
	// their CIDRs in allowedCidrs). The private zone is associated with them.
	// Default: none.
	AssociatedVPCIDs []string `yaml:"associatedVpcIds,omitempty"`
	// GibPerDay is the data the consumer's agents send, in GiB per day;
	// obslink plan sizes the fleets and prices the traffic with it, 0 to
	// 1,000,000. Nothing is deployed from it. Default: none (plan shares its
	// --gib-per-day evenly over the consumers without a figure).
	GibPerDay *float64 `yaml:"gibPerDay,omitempty"`
	// RequestsPerSecond is the consumer's agents' average request rate, 0 to
	// 1,000,000, for obslink plan like GibPerDay. Default: none (plan shares its
	// --requests-per-second evenly over the consumers without a figure).
	RequestsPerSecond *float64 `yaml:"requestsPerSecond,omitempty"`
}

// ConsumerVPC is either a VPC obslink creates (cidr and availabilityZones) or an
// existing one (id, cidr, subnetIds and availabilityZones, one zone per subnet).
type ConsumerVPC struct {
	// ID of an existing VPC to import (vpc-...). Default: none (obslink
	// creates the VPC).
	// Changing it replaces the consumer's endpoint.
	ID string `yaml:"id,omitempty" replaces:"AWS::EC2::VPCEndpoint"`
	// CIDR of the VPC; it may overlap anything (PrivateLink allows it).
	// Required with stacks.
	// Changing it, for a VPC obslink creates, replaces the VPC, its subnets
	// and the endpoint.
	CIDR string `yaml:"cidr,omitempty" replaces:"AWS::EC2::VPC AWS::EC2::Subnet AWS::EC2::VPCEndpoint"`
	// SubnetIDs of an existing VPC for the endpoint, one per entry of
	// availabilityZones. Required with id.
	SubnetIDs []string `yaml:"subnetIds,omitempty"`
	// AvailabilityZones of the VPC (of each subnet, in the same order, for
	// an existing VPC), as names or zone ids. Required with stacks.
	// Changing it, for a VPC obslink creates, replaces every subnet when the
	// zone count crosses a power of two (the CIDR is split anew).
	AvailabilityZones []string `yaml:"availabilityZones,omitempty" replaces:"AWS::EC2::Subnet"`
}

// Existing reports whether the VPC is imported rather than created.
func (v ConsumerVPC) Existing() bool { return v.ID != "" }

// Region returns the provider region entry for name, or false.
func (t *Topology) Region(name string) (Region, bool) {
	for _, r := range t.Regions {
		if r.Region == name {
			return r, true
		}
	}
	return Region{}, false
}

// ProviderRegionFor returns the region whose endpoint service serves a consumer
// in region: the region itself, or the main region in native mode.
func (t *Topology) ProviderRegionFor(region string) string {
	if t.InterRegion == Native {
		return t.ControlPlane.Region
	}
	return region
}

// ConsumerAccounts returns the distinct accounts of the consumers served by the
// provider in region, sorted, for the endpoint service's allowed principals.
func (t *Topology) ConsumerAccounts(region string) []string {
	return t.servedBy(region, func(c Consumer) string { return c.Account })
}

// ConsumerRegions returns the distinct regions of the consumers and consumer
// groups served by the provider in region, sorted.
func (t *Topology) ConsumerRegions(region string) []string {
	out := t.servedBy(region, func(c Consumer) string { return c.Region })
	for _, g := range t.GroupsServedBy(region) {
		for _, r := range g.Regions {
			if t.ProviderRegionFor(r) == region && !containsString(out, r) {
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ConsumerRegionsAll returns the regions a consumer may be in: the provider
// regions, and in native mode every region of the consumers and consumer
// groups, sorted.
func (t *Topology) ConsumerRegionsAll() []string {
	seen := map[string]bool{}
	for _, r := range t.Regions {
		seen[r.Region] = true
	}
	if t.InterRegion == Native {
		for _, c := range t.Consumers {
			seen[c.Region] = true
		}
		for _, g := range t.ConsumerGroups {
			for _, r := range g.Regions {
				seen[r] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// servedBy returns the distinct values of field over the consumers served by
// the provider in region, sorted.
func (t *Topology) servedBy(region string, field func(Consumer) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range t.Consumers {
		if v := field(c); t.ProviderRegionFor(c.Region) == region && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// applyDefaults fills the fields the file left out. It runs after validation.
func (t *Topology) applyDefaults() {
	if t.Domain == "" {
		t.Domain = DefaultDomain
	}
	t.Domain = strings.TrimSuffix(strings.ToLower(t.Domain), ".")
	if t.InterRegion == "" {
		t.InterRegion = DefaultInterRegion
	}
	if t.TGWMesh == "" && t.InterRegion == TGW {
		t.TGWMesh = MeshHub
	}
	for i := range t.Services {
		s := &t.Services[i]
		if s.Protocol == "" {
			s.Protocol = ProtocolHTTP
		}
		if s.Port == 0 {
			s.Port = DefaultHTTPPort
			if s.Protocol == ProtocolGRPC {
				s.Port = DefaultGRPCPort
			}
		}
		if s.UpstreamPort == 0 {
			s.UpstreamPort = s.Port
		}
	}
	if t.Proxy.Mode == "" {
		t.Proxy.Mode = ProxyModeNginx
	}
	if t.Proxyless() {
		// The endpoint service lives in the cluster VPC: the main region is
		// the one provider region (no CIDR: obslink creates no VPC there;
		// a regions entry the file keeps for proxy.mode nginx is ignored).
		t.Regions = []Region{{Region: t.ControlPlane.Region, AvailabilityZones: append([]string(nil), t.ControlPlane.VPC.AvailabilityZones...)}}
	}
	if t.Proxy.InstanceType == "" {
		t.Proxy.InstanceType = DefaultInstanceType
	}
	if t.Proxy.Image == "" {
		t.Proxy.Image = ImageCaptured
	}
	gen := t.Proxy.Generation()
	t.Proxy.ImageGeneration = &gen
	min, max := t.Proxy.Min(), t.Proxy.Max()
	t.Proxy.MinCapacity, t.Proxy.MaxCapacity = &min, &max
	for i := range t.Consumers {
		c := &t.Consumers[i]
		if len(c.AllowedCIDRs) == 0 && c.VPC.CIDR != "" { // stacksets: no VPC in the file
			c.AllowedCIDRs = []string{c.VPC.CIDR}
		}
	}
}

// MarshalYAML writes t as a topology file that Parse reads back as t:
// what completion derived where a file may not state it (proxy.mode none:
// the provider region in the cluster VPC and the proxies' settings) is
// left out while it is what completion derived, and Parse derives it again.
func (t Topology) MarshalYAML() (any, error) {
	type file Topology // without this method
	out := file(t)
	if t.completed && t.Proxyless() {
		derived := Topology{ControlPlane: t.ControlPlane, Proxy: Proxy{Mode: ProxyModeNone}}
		derived.applyDefaults()
		if reflect.DeepEqual(out.Regions, derived.Regions) {
			out.Regions = nil
		}
		if reflect.DeepEqual(out.Proxy, derived.Proxy) {
			out.Proxy = Proxy{Mode: ProxyModeNone}
		}
	}
	return out, nil
}

func derefOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
