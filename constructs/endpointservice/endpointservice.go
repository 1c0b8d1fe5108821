// Package endpointservice publishes a Network Load Balancer as the VPC endpoint
// service consumers connect to, and keeps who may connect in step with the
// topology: the allowed principals and regions, the rejection of accounts
// that left (PrivateLink keeps their connections open), and, with
// Admission, an admission function that accepts and rejects connections by
// account and organizational unit. ProviderRegion (proxies) and the
// proxyless AlbEndpointService share it, and an app can Publish an NLB of
// its own with it; it creates its resources directly in the scope it is
// given, so their logical ids are the caller's.
package endpointservice

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/check"
	"github.com/obslink/obslink/internal/inline"
	"github.com/obslink/obslink/internal/nag"
)

// Props configures Publish.
type Props struct {
	// AllowedAccounts are the 12-digit account ids that may create endpoints to
	// the service. Default: none (nobody can connect).
	AllowedAccounts *[]*string
	// SupportedRegions are other regions from which consumers may connect
	// (native cross-region PrivateLink). Default: only this region.
	SupportedRegions *[]*string
	// Admission makes the service require acceptance, and a function
	// accepts the connections of AllowedAccounts and, with OUs, of accounts
	// under them (the service then allows "*": permissions cannot name an
	// OU), and rejects all others. Default: nil (the allowed accounts only,
	// no acceptance step).
	Admission *Admission
}

// Admission is how an endpoint service admits accounts: the allowed
// accounts and, with OUs, the accounts under them.
type Admission struct {
	// OrganizationalUnitIDs (ou-...) whose accounts, at any depth, may
	// connect; then the service allows "*". Default: none (the allowed
	// accounts only, still with acceptance required).
	OrganizationalUnitIDs *[]*string
	// OrganizationReaderRoleArn is a role in an account that may read AWS
	// Organizations (the management account or a delegated administrator),
	// trusting RoleName, allowed to list accounts and OUs under a parent.
	// Required with OrganizationalUnitIDs.
	OrganizationReaderRoleArn *string
	// RoleName names the admission function's role, which that trust names. Required.
	RoleName *string
	// ExcludedAccounts are rejected even when they are under one of the
	// OUs (an account that stays in its OU but leaves the topology).
	// Default: none.
	ExcludedAccounts *[]*string
}

// admission is an Admission's values.
type admission struct {
	ous, excluded []string
	orgRole, role string
}

// settings are Props' values.
type settings struct {
	allowed, regions []string
	admission        *admission
}

// settings are p's values, recording in chk what cannot describe an
// endpoint service.
func (p *Props) settings(chk *check.Props, field string) settings {
	var s settings
	if p == nil {
		return s
	}
	s.allowed = chk.Strings(field+".AllowedAccounts", p.AllowedAccounts)
	for i, a := range s.allowed {
		chk.Account(fmt.Sprintf("%s.AllowedAccounts[%d]", field, i), a, "the consumer's account")
	}
	s.regions = chk.Strings(field+".SupportedRegions", p.SupportedRegions)
	if a := p.Admission; a != nil {
		s.admission = &admission{
			ous:      chk.Strings(field+".Admission.OrganizationalUnitIDs", a.OrganizationalUnitIDs),
			excluded: chk.Strings(field+".Admission.ExcludedAccounts", a.ExcludedAccounts),
			orgRole:  check.Str(a.OrganizationReaderRoleArn),
			role:     check.Str(a.RoleName),
		}
		if s.admission.role == "" {
			chk.Add(field+".Admission.RoleName", "is empty; name the admission function's role (the organization reader role trusts it)")
		}
		if len(s.admission.ous) > 0 && s.admission.orgRole == "" {
			chk.Add(field+".Admission.OrganizationReaderRoleArn", "is empty; give the role that may read AWS Organizations (it admits by OU)")
		}
		for i, a := range s.admission.excluded {
			chk.Account(fmt.Sprintf("%s.Admission.ExcludedAccounts[%d]", field, i), a, "the account to reject")
		}
	}
	return s
}

// MaxAdmissionEnvironment is what the admission function's environment
// (settings, named accounts included) may take of Lambda's 4 KB.
const MaxAdmissionEnvironment = 3500

// Service is a published endpoint service and who may connect to it.
type Service struct {
	service awsec2.VpcEndpointService
	allowed []string
	regions []string
	// admitFn is the admission function (Admission), else nil.
	admitFn awslambda.Function
}

// Publish creates, in scope, the endpoint service of nlb
// ("EndpointService"), its permissions, the revocation of accounts that
// left ("Revoke", "RevokeStrangers") and, with Admission, the admission
// function and its triggers. It panics on props that cannot describe an
// endpoint service, with every mistake, scope's path and the field.
func Publish(scope constructs.Construct, nlb awselasticloadbalancingv2.INetworkLoadBalancer, props *Props) *Service {
	chk := check.In("endpointservice.Publish", scope)
	if nlb == nil {
		chk.Add("nlb", "is nil; give the Network Load Balancer to publish")
	}
	set := props.settings(chk, "props")
	chk.Panic()
	s := &Service{}
	s.allowed, s.regions = sorted(set.allowed), sorted(set.regions)
	principals := make([]awsiam.ArnPrincipal, 0, len(s.allowed))
	partition := *awscdk.Aws_PARTITION() // one jsii call, not one per account
	for _, a := range s.allowed {
		principals = append(principals, awsiam.NewArnPrincipal(jsii.String(fmt.Sprintf("arn:%s:iam::%s:root", partition, a))))
	}
	var regions *[]*string
	if len(s.regions) > 0 {
		regions = jsii.Strings(s.regions...)
	}
	// Without Admission, acceptance is not required: the allowed principals
	// are exactly the consumer accounts of the topology, and a pending
	// endpoint would stall the consumer's deploy until someone accepts it by
	// hand. With Admission it is, and the admission function answers (with
	// OUs, any account may ask).
	byOU := set.admission != nil && len(set.admission.ous) > 0
	if byOU {
		principals = []awsiam.ArnPrincipal{awsiam.NewArnPrincipal(jsii.String("*"))}
	}
	s.service = awsec2.NewVpcEndpointService(scope, jsii.String("EndpointService"), &awsec2.VpcEndpointServiceProps{
		VpcEndpointServiceLoadBalancers: &[]awsec2.IVpcEndpointServiceLoadBalancer{nlb},
		AcceptanceRequired:              jsii.Bool(set.admission != nil),
		AllowedPrincipals:               &principals,
		AllowedRegions:                  regions,
	})
	if len(principals) == 0 {
		// CDK emits the permissions only for a non-empty list: when a
		// region's last consumer leaves, CloudFormation would delete them in
		// its cleanup, after the revocation ran, and the removed account
		// could connect in between. An empty list (same logical id) updates
		// them in place instead.
		awsec2.NewCfnVPCEndpointServicePermissions(s.service, jsii.String("Permissions"), &awsec2.CfnVPCEndpointServicePermissionsProps{
			ServiceId:         s.service.VpcEndpointServiceId(),
			AllowedPrincipals: &[]*string{},
		})
	}
	s.revokeStrangers(scope, byOU)
	if set.admission != nil {
		s.admit(scope, *set.admission)
	}
	return s
}

// admit builds admission: an SNS topic the endpoint service notifies on
// Connect, and a function (assets/endpoints/admit_connections.py, inline)
// subscribed to it, run every 15 minutes, and run as a custom resource on
// deploys that change its settings.
func (s *Service) admit(scope constructs.Construct, a admission) {
	stack := awscdk.Stack_Of(scope)
	serviceArn := *awscdk.Fn_Join(jsii.String(""), jsii.Strings(
		"arn:", *awscdk.Aws_PARTITION(), ":ec2:", *stack.Region(), ":", *stack.Account(), ":vpc-endpoint-service/", *s.service.VpcEndpointServiceId()))
	role := awsiam.NewRole(scope, jsii.String("AdmitRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(a.role),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("obslink: admits endpoint connections by account and organizational unit"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaBasicExecutionRole")),
		},
	})
	nag.Suppress(role, "AwsSolutions-IAM4", "AWSLambdaBasicExecutionRole only lets the function write its own logs.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	fn := inline.PythonFunction(scope, "Admit", "endpoints/admit_connections.py",
		"obslink: accepts endpoint connections of the topology's accounts and organizational units, rejects the rest", awscdk.Duration_Minutes(jsii.Number(5)), role)
	ous := strings.Join(sorted(a.ous), ",")
	env := map[string]string{"SERVICE_ID": *s.service.VpcEndpointServiceId(), "ALLOWED": strings.Join(s.allowed, ","), "OUS": ous}
	if ous != "" {
		env["ORG_ROLE"] = a.orgRole
	}
	excluded := sorted(a.excluded)
	if len(excluded) > 0 {
		env["EXCLUDED"] = strings.Join(excluded, ",")
	}
	if n := len(env["ALLOWED"]) + len(ous) + len(env["ORG_ROLE"]) + len(env["EXCLUDED"]); n > MaxAdmissionEnvironment {
		panic(fmt.Sprintf("endpointservice.Publish(%q): the admission function's settings take %d characters of Lambda's 4 KB environment: %d named and %d excluded accounts are too many for one region; move named accounts into an OU group, and excluded ones out of the groups' OUs", *scope.Node().Path(), n, len(s.allowed), len(excluded)))
	}
	for _, k := range sortedKeys(env) {
		fn.AddEnvironment(jsii.String(k), jsii.String(env[k]), nil)
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:AcceptVpcEndpointConnections", "ec2:RejectVpcEndpointConnections"),
		Resources: jsii.Strings(serviceArn),
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeVpcEndpointConnections"),
		Resources: jsii.Strings("*"),
	}))
	if ous != "" {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(a.orgRole),
		}))
	}
	// One run at a time (concurrent runs would answer the same connection
	// twice), and a run every 15 minutes: an account that left an OU loses
	// its connection without waiting for another account to connect.
	fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(1))
	s.admitFn = fn
	awsevents.NewRule(scope, jsii.String("AdmitSchedule"), &awsevents.RuleProps{
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(15))),
		Description: jsii.String("obslink: re-checks the endpoint connections against the accounts and OUs"),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, nil)},
	})
	nag.Suppress(role, "AwsSolutions-IAM5",
		"ec2:DescribeVpcEndpointConnections supports no resource-level permissions; the writes (accept, reject) are limited to this endpoint service.",
		"Resource::*")

	topic := awssns.NewTopic(scope, jsii.String("Connections"), &awssns.TopicProps{
		DisplayName: jsii.String("obslink endpoint connections"),
		EnforceSSL:  jsii.Bool(true),
	})
	nag.Suppress(topic, "AwsSolutions-SNS2",
		"The notifications carry endpoint and service ids only; a customer-managed key for vpce.amazonaws.com would cost a key per region for no secret.")
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("vpce.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
	}))
	topic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(fn, nil))
	notify := awsec2.NewCfnVPCEndpointConnectionNotification(scope, jsii.String("ConnectNotification"), &awsec2.CfnVPCEndpointConnectionNotificationProps{
		ServiceId:                 s.service.VpcEndpointServiceId(),
		ConnectionEvents:          jsii.Strings("Connect"),
		ConnectionNotificationArn: topic.TopicArn(),
	})
	notify.Node().AddDependency(topic)

	crProps := map[string]any{
		"ServiceId":             s.service.VpcEndpointServiceId(),
		"AllowedAccounts":       s.allowed,
		"OrganizationalUnitIds": sorted(a.ous),
	}
	if len(excluded) > 0 {
		crProps["ExcludedAccounts"] = excluded
	}
	cr := awscdk.NewCustomResource(scope, jsii.String("AdmitConnections"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::ObslinkAdmitEndpointConnections"),
		Properties:   &crProps,
	})
	cr.Node().AddDependency(s.service, notify)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// revokeStrangers rejects, on every deploy that changes the allowed
// accounts, the endpoint connections of accounts the service no longer
// allows: PrivateLink keeps existing connections open when an account leaves
// the allowed principals. It runs after the permissions are updated (the
// permissions resource always exists, even with no principal), so a removed
// account cannot connect again in between. On delete it rejects every open
// connection, which deleting the service requires. Handler:
// assets/endpoints/revoke_connections.py, inline.
func (s *Service) revokeStrangers(scope constructs.Construct, byOU bool) {
	stack := awscdk.Stack_Of(scope)
	fn := inline.PythonFunction(scope, "Revoke", "endpoints/revoke_connections.py",
		"obslink: rejects endpoint connections of accounts the endpoint service no longer allows", awscdk.Duration_Minutes(jsii.Number(5)))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ec2:RejectVpcEndpointConnections"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), jsii.Strings(
			"arn:", *awscdk.Aws_PARTITION(), ":ec2:", *stack.Region(), ":", *stack.Account(), ":vpc-endpoint-service/", *s.service.VpcEndpointServiceId()))),
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeVpcEndpointConnections"),
		Resources: jsii.Strings("*"),
	}))
	nag.Suppress(fn, "AwsSolutions-IAM5",
		"ec2:DescribeVpcEndpointConnections supports no resource-level permissions; the only write, ec2:RejectVpcEndpointConnections, is limited to this endpoint service.",
		"Resource::*")
	allowed := s.allowed
	if allowed == nil {
		allowed = []string{}
	}
	if byOU {
		allowed = []string{"*"} // the admission function decides who stays
	}
	cr := awscdk.NewCustomResource(scope, jsii.String("RevokeStrangers"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::ObslinkRevokeEndpointConnections"),
		Properties: &map[string]any{
			"ServiceId":       s.service.VpcEndpointServiceId(),
			"AllowedAccounts": allowed,
		},
	})
	cr.Node().AddDependency(s.service)
}

// EndpointService is the VPC endpoint service consumers connect to.
func (s *Service) EndpointService() awsec2.VpcEndpointService { return s.service }

// ServiceID is the endpoint service id (vpce-svc-...), a plain resource
// attribute that can cross accounts as a weak reference.
func (s *Service) ServiceID() *string { return s.service.VpcEndpointServiceId() }

// ServiceName is com.amazonaws.vpce.<region>.<service id>.
func (s *Service) ServiceName() *string { return s.service.VpcEndpointServiceName() }

// AllowedAccounts are the accounts allowed to connect, sorted.
func (s *Service) AllowedAccounts() []string { return append([]string(nil), s.allowed...) }

// SupportedRegions are the other regions consumers may connect from, sorted.
func (s *Service) SupportedRegions() []string { return append([]string(nil), s.regions...) }

// AdmissionFunction is the function that admits endpoint connections
// (Admission), or nil.
func (s *Service) AdmissionFunction() awslambda.Function { return s.admitFn }

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
