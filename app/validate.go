package app

import (
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// shapeValidator runs aws-cdk-lib's CloudFormation validator (the plugin
// BuiltinCloudFormationValidation adds) on one template of each shape and
// region, and reports for every template of the shape what it found on that
// one: the report, and validation-report.json, are the ones the validator
// gives when it reads every template. When a finding names a value the
// shape sets aside (an account id, a CIDR, a name), the templates of that
// shape are validated one by one.
type shapeValidator struct {
	inner  awscdk.CloudFormationValidatePlugin
	shapes *shapes
}

var _ awscdk.IPolicyValidationPlugin = (*shapeValidator)(nil)

// consumerNames are the names each consumer stack holds, by construct path:
// the consumer's (its stack is a child of the App, named by
// stacks.ConsumerStackName).
func consumerNames(t *topology.Topology) map[string][]string {
	out := map[string][]string{}
	if !t.StackSetsEnabled() {
		for _, c := range t.Consumers {
			out[stacks.ConsumerStackName(t, c.Name)] = []string{c.Name}
		}
	}
	return out
}

func newShapeValidator(shapes *shapes) *shapeValidator {
	return &shapeValidator{inner: awscdk.NewCloudFormationValidatePlugin(nil), shapes: shapes}
}

// Name is the validator's, so that aws-cdk-lib treats the report as its own
// (findings become warnings unless the strict flag is set).
func (v *shapeValidator) Name() *string    { return v.inner.Name() }
func (v *shapeValidator) Version() *string { return v.inner.Version() }
func (v *shapeValidator) RuleIds() *[]*string {
	return v.inner.RuleIds()
}

// validationEnabled reports whether aws-cdk-lib would run its validator:
// not with Options.NoValidate, nor with CDK_VALIDATION=false in the
// environment (the switch aws-cdk-lib reads itself).
func validationEnabled(opts Options) bool {
	return !opts.NoValidate && os.Getenv("CDK_VALIDATION") != "false"
}

// Validate validates one template per shape, then as many of the others as
// a finding requires, and returns the report of all.
func (v *shapeValidator) Validate(ctx awscdk.IPolicyValidationContext) *awscdk.PolicyValidationPluginReport {
	stacks := *ctx.StackTemplates()
	groups := v.group(stacks)
	// The first template of each shape stands for the shape.
	reps := map[int]bool{}
	for _, g := range groups {
		reps[g] = true
	}
	report := v.validateOnly(ctx, stacks, reps)
	// A finding that names a value the shape set aside may differ between
	// templates of the shape: validate each of them.
	again := false
	for i, s := range stacks {
		if reps[i] && v.namesAsideValue(report, s) {
			for j, g := range groups {
				if g == i && !reps[j] {
					reps[j] = true
					again = true
				}
			}
		}
	}
	if again {
		report = v.validateOnly(ctx, stacks, reps)
	}
	return project(report, stacks, groups, reps)
}

// group returns, for each template, the index of the first template of its
// shape and region.
func (v *shapeValidator) group(stacks []*awscdk.PolicyValidationStack) []int {
	shapes := make([]shape, len(stacks))
	valid := make([]bool, len(stacks))
	parallel(len(stacks), func(i int) {
		s := stacks[i]
		sh, err := v.shapes.of(*s.TemplatePath, *s.StackConstructPath, deref(s.AccountId), deref(s.Region))
		if err != nil { // the validator reports it itself
			return
		}
		shapes[i], valid[i] = sh, true
	})
	first := map[shape]int{}
	out := make([]int, len(stacks))
	for i := range stacks {
		out[i] = i
		if !valid[i] {
			continue
		}
		if f, ok := first[shapes[i]]; ok {
			out[i] = f
		} else {
			first[shapes[i]] = i
		}
	}
	return out
}

// validateOnly runs the validator on the templates in only, in the
// context's order.
func (v *shapeValidator) validateOnly(ctx awscdk.IPolicyValidationContext, stacks []*awscdk.PolicyValidationStack, only map[int]bool) *awscdk.PolicyValidationPluginReport {
	sub := &validationContext{app: ctx.AppConstruct()}
	for i, s := range stacks {
		if only[i] {
			sub.stacks = append(sub.stacks, s)
		}
	}
	return v.inner.Validate(sub)
}

// namesAsideValue reports whether a finding on the template of s quotes a
// value its shape sets aside, or points at anything but a resource of the
// template or the stack itself.
func (v *shapeValidator) namesAsideValue(report *awscdk.PolicyValidationPluginReport, s *awscdk.PolicyValidationStack) bool {
	id := v.shapes.identity(*s.StackConstructPath, deref(s.AccountId))
	values := append([]string{id.path, id.account}, id.names...)
	for _, viol := range *report.Violations {
		mine := false
		for _, r := range *viol.ViolatingResources {
			if deref(r.TemplatePath) != *s.TemplatePath {
				continue
			}
			mine = true
			if r.ConstructPath != nil && *r.ConstructPath != *s.StackConstructPath {
				return true
			}
			for _, l := range *r.Locations {
				if quotes(*l, values) {
					return true
				}
			}
		}
		if mine && (quotes(*viol.Description, values) || quotes(deref(viol.Fix), values)) {
			return true
		}
	}
	return false
}

func quotes(text string, values []string) bool {
	for _, v := range values {
		if v != "" && strings.Contains(text, v) {
			return true
		}
	}
	return reCIDR.MatchString(text)
}

// project turns the report on the validated templates into the report on
// all of them: the validator merges findings of one rule, severity and
// description in the order it meets them, template after template, so each
// finding lists, for every template in order, what the validated template
// of its shape showed.
func project(report *awscdk.PolicyValidationPluginReport, stacks []*awscdk.PolicyValidationStack, groups []int, validated map[int]bool) *awscdk.PolicyValidationPluginReport {
	byPath := map[string]int{}
	for i, s := range stacks {
		byPath[*s.TemplatePath] = i
	}
	violations := make([]*awscdk.PolicyViolation, 0, len(*report.Violations))
	for _, viol := range *report.Violations {
		// What each validated template showed, in its order.
		found := map[int][]*awscdk.PolicyViolatingResource{}
		for _, r := range *viol.ViolatingResources {
			i, ok := byPath[deref(r.TemplatePath)]
			if !ok {
				i = -1 // not a template's: keep it where it was
			}
			found[i] = append(found[i], r)
		}
		var resources []*awscdk.PolicyViolatingResource
		resources = append(resources, found[-1]...)
		for i, s := range stacks {
			from := i
			if !validated[i] {
				from = groups[i]
			}
			for _, r := range found[from] {
				c := *r
				if from != i {
					c.TemplatePath = s.TemplatePath
					if r.ConstructPath != nil { // the stack itself (namesAsideValue)
						c.ConstructPath = s.StackConstructPath
					}
				}
				resources = append(resources, &c)
			}
		}
		c := *viol
		c.ViolatingResources = &resources
		violations = append(violations, &c)
	}
	out := *report
	out.Violations = &violations
	return &out
}

// validationContext is the context the validator reads: the templates to
// validate (it reads nothing else).
type validationContext struct {
	app    constructs.IConstruct
	stacks []*awscdk.PolicyValidationStack
}

func (c *validationContext) AppConstruct() constructs.IConstruct { return c.app }

func (c *validationContext) StackTemplates() *[]*awscdk.PolicyValidationStack { return &c.stacks }

func (c *validationContext) TemplatePaths() *[]*string {
	out := make([]*string, len(c.stacks))
	for i, s := range c.stacks {
		out[i] = s.TemplatePath
	}
	return &out
}

// AccountId is the accounts of the templates when they all share one.
func (c *validationContext) AccountId() *string {
	return same(c.stacks, func(s *awscdk.PolicyValidationStack) *string { return s.AccountId })
}

// Region is the region of the templates when they all share one.
func (c *validationContext) Region() *string {
	return same(c.stacks, func(s *awscdk.PolicyValidationStack) *string { return s.Region })
}

func same(stacks []*awscdk.PolicyValidationStack, f func(*awscdk.PolicyValidationStack) *string) *string {
	if len(stacks) == 0 {
		return nil
	}
	first := f(stacks[0])
	for _, s := range stacks[1:] {
		if deref(f(s)) != deref(first) {
			return nil
		}
	}
	return first
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
