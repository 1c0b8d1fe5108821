// Package stackset provides StackSet: a service-managed CloudFormation
// StackSet (AWS Organizations) on AWS::CloudFormation::StackSet, with stack
// instances for accounts and organizational units, parameter overrides,
// automatic deployment and operation preferences. aws-cdk-lib has no L2 for
// it and cdklabs/cdk-stacksets publishes no Go module.
//
// The template travels inline (TemplateBody, at most 51,200 bytes): it must
// be plain CloudFormation, with no file assets, since member accounts have no
// CDK bootstrap.
package stackset

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/check"
)

// MaxTemplateBody is CloudFormation's limit on an inline template (bytes).
const MaxTemplateBody = 51200

// MaxOrganizationalUnits is how many OUs one StackSet operation
// (CreateStackInstances, UpdateStackInstances, DeleteStackInstances)
// accepts. Without an account filter on any Targets, the StackSet
// resource's handler merges the OUs of Targets with the same regions and
// overrides into one operation: keep their sum within it too.
const MaxOrganizationalUnits = 50

// Targets are stack instances in Regions of the accounts Accounts within the
// organizational units (or organization root) OrganizationalUnitIDs; with
// no Accounts, of every account in them. Overrides set template parameters
// for these instances.
type Targets struct {
	// OrganizationalUnitIDs (ou-... or the root, r-...). Required: at least one.
	OrganizationalUnitIDs *[]*string
	// Accounts filters the accounts of the OUs as AccountFilterType says.
	// Default: every account of the OUs.
	Accounts *[]*string
	// AccountFilterType is INTERSECTION (only Accounts) or DIFFERENCE
	// (every account of the OUs but Accounts). Default: INTERSECTION when
	// Accounts is set.
	AccountFilterType *string
	// Regions of the stack instances. Required: at least one.
	Regions *[]*string
	// Overrides are parameter values of these instances. Default: none.
	Overrides *map[string]*string
}

// Props configures a StackSet.
type Props struct {
	// StackSetName names the StackSet (letters, digits, hyphens; replaced on change). Required.
	StackSetName *string
	// Description of the StackSet. Default: none.
	Description *string
	// TemplateBody is the instances' template, plain CloudFormation JSON or
	// YAML of at most MaxTemplateBody bytes. Required.
	TemplateBody *string
	// CallAs is DELEGATED_ADMIN (a delegated administrator account for
	// StackSets) or SELF (the management account). Default: DELEGATED_ADMIN.
	CallAs *string
	// Parameters are values of template parameters for every instance
	// (tokens allowed). Default: none.
	Parameters *map[string]*string
	// Instances are the stack instance groups. Default: none.
	Instances *[]*Targets
	// AutoDeployment deploys to accounts that join a target OU and removes
	// the instances of accounts that leave it. Default: false.
	AutoDeployment *bool
	// RegionConcurrency: PARALLEL or SEQUENTIAL. Default: PARALLEL.
	RegionConcurrency *string
	// ConcurrencyMode: SOFT_FAILURE_TOLERANCE (concurrency independent of
	// the failure tolerance) or STRICT_FAILURE_TOLERANCE (at most the
	// tolerance + 1 accounts at once). Default: SOFT_FAILURE_TOLERANCE.
	ConcurrencyMode *string
	// MaxConcurrentPercentage of accounts per region at once. Default: 25.
	MaxConcurrentPercentage *float64
	// FailureTolerancePercentage of accounts per region that may fail
	// (0: none). Default: 10.
	FailureTolerancePercentage *float64
	// Capabilities the template needs, such as CAPABILITY_IAM. Default: none.
	Capabilities *[]*string
}

// targets are Targets' values.
type targets struct {
	OrganizationalUnitIDs, Accounts, Regions []string
	AccountFilterType                        string
	Overrides                                map[string]*string
}

// settings are Props' values, defaults applied.
type settings struct {
	StackSetName, Description, TemplateBody, CallAs, RegionConcurrency, ConcurrencyMode string
	Parameters                                                                          map[string]*string
	Instances                                                                           []targets
	AutoDeployment                                                                      bool
	MaxConcurrentPercentage, FailureTolerancePercentage                                 int
	Capabilities                                                                        []string
}

// StackSet is one service-managed StackSet.
type StackSet struct {
	constructs.Construct
	name     string
	resource awscloudformation.CfnStackSet
}

// New creates the StackSet. It panics on props that cannot describe one
// (like the CDK's own constructors on misuse).
func New(scope constructs.Construct, id *string, props *Props) *StackSet {
	chk := check.New("stackset.New", scope, id)
	p := props.settings(chk)
	chk.Panic()
	s := &StackSet{}
	constructs.NewConstruct_Override(s, scope, id)

	var params []any
	for _, k := range sortedKeys(p.Parameters) {
		params = append(params, &awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(k), ParameterValue: p.Parameters[k]})
	}
	var groups []any
	for _, g := range p.Instances {
		targets := &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(g.OrganizationalUnitIDs...)}
		if len(g.Accounts) > 0 {
			filter := g.AccountFilterType
			if filter == "" {
				filter = "INTERSECTION"
			}
			targets.Accounts = jsii.Strings(g.Accounts...)
			targets.AccountFilterType = jsii.String(filter)
		}
		group := &awscloudformation.CfnStackSet_StackInstancesProperty{DeploymentTargets: targets, Regions: jsii.Strings(g.Regions...)}
		var overrides []any
		for _, k := range sortedKeys(g.Overrides) {
			overrides = append(overrides, &awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(k), ParameterValue: g.Overrides[k]})
		}
		if len(overrides) > 0 {
			group.ParameterOverrides = overrides
		}
		groups = append(groups, group)
	}
	auto := &awscloudformation.CfnStackSet_AutoDeploymentProperty{Enabled: jsii.Bool(p.AutoDeployment)}
	if p.AutoDeployment {
		auto.RetainStacksOnAccountRemoval = jsii.Bool(false)
	}
	props2 := &awscloudformation.CfnStackSetProps{
		StackSetName:     jsii.String(p.StackSetName),
		PermissionModel:  jsii.String("SERVICE_MANAGED"),
		CallAs:           jsii.String(p.CallAs),
		TemplateBody:     jsii.String(p.TemplateBody),
		AutoDeployment:   auto,
		ManagedExecution: map[string]any{"Active": true},
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			RegionConcurrencyType:      jsii.String(p.RegionConcurrency),
			ConcurrencyMode:            jsii.String(p.ConcurrencyMode),
			MaxConcurrentPercentage:    jsii.Number(float64(p.MaxConcurrentPercentage)),
			FailureTolerancePercentage: jsii.Number(float64(p.FailureTolerancePercentage)),
		},
	}
	if p.Description != "" {
		props2.Description = jsii.String(p.Description)
	}
	if len(params) > 0 {
		props2.Parameters = params
	}
	if len(groups) > 0 {
		props2.StackInstancesGroup = groups
	}
	if len(p.Capabilities) > 0 {
		props2.Capabilities = jsii.Strings(p.Capabilities...)
	}
	s.name = p.StackSetName
	s.resource = awscloudformation.NewCfnStackSet(s.Construct, jsii.String("Resource"), props2)
	return s
}

// settings are p's values with the defaults applied, recording in chk
// what cannot describe a StackSet.
func (p *Props) settings(chk *check.Props) settings {
	if p == nil {
		chk.Add("props", "is nil; pass &stackset.Props{StackSetName: ..., TemplateBody: ...}")
		return settings{}
	}
	out := settings{
		StackSetName: check.Str(p.StackSetName), Description: check.Str(p.Description), TemplateBody: check.Str(p.TemplateBody),
		CallAs: check.Str(p.CallAs), RegionConcurrency: check.Str(p.RegionConcurrency), ConcurrencyMode: check.Str(p.ConcurrencyMode),
		AutoDeployment:             check.Bool(p.AutoDeployment),
		MaxConcurrentPercentage:    chk.Int("props.MaxConcurrentPercentage", p.MaxConcurrentPercentage, 25),
		FailureTolerancePercentage: chk.Int("props.FailureTolerancePercentage", p.FailureTolerancePercentage, 10),
		Capabilities:               chk.Strings("props.Capabilities", p.Capabilities),
	}
	if p.Parameters != nil {
		out.Parameters = *p.Parameters
	}
	out.check(chk)
	for i, g := range check.List(chk, "props.Instances", p.Instances) {
		if g == nil {
			continue
		}
		field := fmt.Sprintf("props.Instances[%d]", i)
		t := targets{
			OrganizationalUnitIDs: chk.Strings(field+".OrganizationalUnitIDs", g.OrganizationalUnitIDs),
			Accounts:              chk.Strings(field+".Accounts", g.Accounts),
			Regions:               chk.Strings(field+".Regions", g.Regions),
			AccountFilterType:     check.Str(g.AccountFilterType),
		}
		if g.Overrides != nil {
			t.Overrides = *g.Overrides
		}
		out.Instances = append(out.Instances, t)
		t.check(chk, field)
	}
	if out.RegionConcurrency == "" {
		out.RegionConcurrency = "PARALLEL"
	}
	if out.CallAs == "" {
		out.CallAs = "DELEGATED_ADMIN"
	}
	if out.ConcurrencyMode == "" {
		out.ConcurrencyMode = "SOFT_FAILURE_TOLERANCE"
	}
	return out
}

// check records what in p cannot describe a StackSet.
func (p settings) check(chk *check.Props) {
	if p.StackSetName == "" {
		chk.Add("props.StackSetName", "is empty; give the StackSet a name (letters, digits, hyphens)")
	} else if !check.IsToken(p.StackSetName) && !reName.MatchString(p.StackSetName) {
		chk.Add("props.StackSetName", "%q: use letters, digits and hyphens, starting with a letter, at most 128", p.StackSetName)
	}
	if p.TemplateBody == "" {
		chk.Add("props.TemplateBody", "is empty; give the instances' template")
	} else if len(p.TemplateBody) > MaxTemplateBody {
		chk.Add("props.TemplateBody", "is %d bytes, over CloudFormation's %d for an inline template body: use fewer services or regions", len(p.TemplateBody), MaxTemplateBody)
	}
	if p.CallAs != "" && p.CallAs != "DELEGATED_ADMIN" && p.CallAs != "SELF" {
		chk.Add("props.CallAs", "%q: use DELEGATED_ADMIN or SELF", p.CallAs)
	}
	if p.RegionConcurrency != "" && p.RegionConcurrency != "PARALLEL" && p.RegionConcurrency != "SEQUENTIAL" {
		chk.Add("props.RegionConcurrency", "%q: use PARALLEL or SEQUENTIAL", p.RegionConcurrency)
	}
	if p.MaxConcurrentPercentage < 1 || p.MaxConcurrentPercentage > 100 {
		chk.Add("props.MaxConcurrentPercentage", "%d: use 1-100", p.MaxConcurrentPercentage)
	}
	if f := p.FailureTolerancePercentage; f < 0 || f > 100 {
		chk.Add("props.FailureTolerancePercentage", "%d: use 0-100", f)
	}
	if p.ConcurrencyMode != "" && p.ConcurrencyMode != "SOFT_FAILURE_TOLERANCE" && p.ConcurrencyMode != "STRICT_FAILURE_TOLERANCE" {
		chk.Add("props.ConcurrencyMode", "%q: use SOFT_FAILURE_TOLERANCE or STRICT_FAILURE_TOLERANCE", p.ConcurrencyMode)
	}
}

// check records what in the instance group g (field) cannot describe
// stack instances.
func (g targets) check(chk *check.Props, field string) {
	if len(g.OrganizationalUnitIDs) == 0 {
		chk.Add(field+".OrganizationalUnitIDs", "is empty; give at least one OU (ou-...) or the root (r-...)")
	}
	if len(g.OrganizationalUnitIDs) > MaxOrganizationalUnits {
		chk.Add(field+".OrganizationalUnitIDs", "has %d OUs, over the %d one StackSet operation accepts: split them over several Instances", len(g.OrganizationalUnitIDs), MaxOrganizationalUnits)
	}
	if len(g.Regions) == 0 {
		chk.Add(field+".Regions", "is empty; give at least one region")
	}
	if g.AccountFilterType != "" && g.AccountFilterType != "INTERSECTION" && g.AccountFilterType != "DIFFERENCE" {
		chk.Add(field+".AccountFilterType", "%q: use INTERSECTION or DIFFERENCE", g.AccountFilterType)
	} else if g.AccountFilterType != "" && len(g.Accounts) == 0 {
		chk.Add(field+".AccountFilterType", "%q needs Accounts", g.AccountFilterType)
	}
}

var reName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{0,127}$`)

// Name is the StackSet's name.
func (s *StackSet) Name() string { return s.name }

// Resource is the AWS::CloudFormation::StackSet.
func (s *StackSet) Resource() awscloudformation.CfnStackSet { return s.resource }

// Ref is the StackSet's id (name:uuid).
func (s *StackSet) Ref() *string { return s.resource.Ref() }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
