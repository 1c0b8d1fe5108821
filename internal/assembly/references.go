package assembly

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing in a cloud assembly that would fail its deploy.
type Problem struct {
	// Stack is the stack's name.
	Stack string
	// Where is the place in the stack's template (a logical id and property
	// path, such as Resources.Endpoint.Properties.ServiceName.Fn::Join[1][1]),
	// or "dependencies" for the stack's dependencies in manifest.json.
	Where string
	// Construct is the construct path of the resource or output at Where,
	// when the assembly's metadata records it.
	Construct string
	// Message says what is wrong and how to fix it.
	Message string
}

// String writes p on one line: stack, place, construct path, message.
func (p Problem) String() string {
	where := p.Where
	if p.Construct != "" {
		where += " (" + p.Construct + ")"
	}
	return p.Stack + ": " + where + ": " + p.Message
}

// Report is what References found.
type Report struct {
	// Imports counts the Fn::ImportValue checked, StackOutputs the
	// Fn::GetStackOutput, StackSetTemplates the StackSet templates read.
	Imports, StackOutputs, StackSetTemplates int
	// Problems are sorted by stack, place and message.
	Problems []Problem
}

// References checks, in the cloud assembly in dir, that every cross-stack
// reference resolves when CloudFormation deploys the reading stack:
//   - Fn::ImportValue names an export of another stack in the same account
//     and region, which the reading stack depends on (directly or through
//     other stacks, as manifest.json records it); no two stacks of an
//     account and region export the same name;
//   - Fn::GetStackOutput names a stack of the assembly (by stack name, in
//     Region, else the reader's region; in the account of RoleArn, else the
//     reader's), an output of it, and the reading stack depends on it; a
//     RoleArn that names its role is a role some stack of that account
//     creates, and the reader depends on that stack too;
//   - no dependency cycle, no dependency on an artifact that does not exist;
//   - a StackSet's inline template (TemplateBody, JSON) holds no
//     Fn::ImportValue or Fn::GetStackOutput (its stack instances run in
//     member accounts, where no export or stack of the assembly is), declares
//     every parameter the StackSet passes or overrides, and gets a value for
//     each parameter without a default from the StackSet's Parameters.
//     StackSets with a TemplateURL are not read.
//
// An export name, stack name, output name or region must be a string, or
// built with Fn::Join and Fn::Sub from strings and the pseudo parameters
// AWS::AccountId, AWS::Region and AWS::StackName; anything else (a template
// parameter, Fn::If, Fn::Select, ...) is reported, as it cannot be checked
// before deploy. A RoleArn may hold such parts: where its account is one,
// the stack is looked up by name and region alone; where its role name is
// one, the role is not looked up. Nested assemblies (CDK Stages) are not
// read. The error is for an assembly that cannot be read.
func References(dir string) (Report, error) {
	a, err := load(dir)
	if err != nil {
		return Report{}, err
	}
	return a.references(), nil
}

func (a *assembly) references() Report {
	c := &checker{assembly: a, reach: map[string]map[string]bool{}}
	c.dependencies()
	c.indexExports()
	for _, s := range a.stacks {
		walk(s.tpl, func(fn string, arg any, where string) {
			if fn == "Fn::ImportValue" {
				c.importValue(s, arg, where)
			} else {
				c.stackOutput(s, arg, where)
			}
		})
		c.stackSets(s)
	}
	sort.Slice(c.report.Problems, func(i, j int) bool {
		p, q := c.report.Problems[i], c.report.Problems[j]
		if p.Stack != q.Stack {
			return p.Stack < q.Stack
		}
		if p.Where != q.Where {
			return p.Where < q.Where
		}
		return p.Message < q.Message
	})
	return c.report
}

type checker struct {
	*assembly
	report Report
	// exports holds the stacks exporting each name, by environment and name.
	exports map[string][]place
	// reach memoizes the artifacts each artifact depends on, transitively.
	reach map[string]map[string]bool
	// roles holds the stack and logical id of each named role, by account
	// and role name, once a RoleArn needs them.
	roles map[string]place
}

// place is a resource or output of a stack, by logical id.
type place struct {
	stack *stack
	id    string
}

func (c *checker) problem(s *stack, where, format string, args ...any) {
	p := Problem{Stack: s.name, Where: where, Message: fmt.Sprintf(format, args...)}
	for _, section := range []string{"Resources.", "Outputs."} {
		if rest, ok := strings.CutPrefix(where, section); ok {
			id, _, _ := strings.Cut(rest, ".")
			p.Construct = s.constructs[id]
		}
	}
	c.report.Problems = append(c.report.Problems, p)
}

// dependencies reports dependencies on artifacts that do not exist, and
// each dependency cycle once.
func (c *checker) dependencies() {
	byID := map[string]*stack{}
	for _, s := range c.stacks {
		byID[s.id] = s
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var path []string
	var visit func(id string)
	visit = func(id string) {
		state[id] = visiting
		path = append(path, id)
		for _, d := range c.deps[id] {
			if _, ok := c.deps[d]; !ok {
				if s := byID[id]; s != nil {
					c.problem(s, "dependencies", "depends on %q, which is no artifact of the assembly: remove the dependency or add the stack", d)
				}
				continue
			}
			switch state[d] {
			case visiting:
				i := len(path) - 1
				for path[i] != d {
					i--
				}
				cycle := append(append([]string{}, path[i:]...), d)
				owner := byID[id]
				if owner == nil {
					owner = &stack{name: id}
				}
				c.problem(owner, "dependencies", "dependency cycle %s: none of these stacks can deploy first; remove one dependency (such as %s on %s) and the reference that needs it",
					strings.Join(cycle, " -> "), id, d)
			case 0:
				visit(d)
			}
		}
		path = path[:len(path)-1]
		state[id] = done
	}
	for _, id := range sortedKeys(c.deps) {
		if state[id] == 0 {
			visit(id)
		}
	}
}

// dependsOn tells whether reader depends on producer, directly or through
// other artifacts.
func (c *checker) dependsOn(reader, producer *stack) bool {
	seen, ok := c.reach[reader.id]
	if !ok {
		seen = map[string]bool{}
		todo := []string{reader.id}
		for len(todo) > 0 {
			id := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for _, d := range c.deps[id] {
				if !seen[d] {
					seen[d] = true
					todo = append(todo, d)
				}
			}
		}
		c.reach[reader.id] = seen
	}
	return seen[producer.id]
}

func (c *checker) indexExports() {
	c.exports = map[string][]place{}
	for _, s := range c.stacks {
		outputs, _ := s.tpl["Outputs"].(map[string]any)
		for _, id := range sortedKeys(outputs) {
			o, _ := outputs[id].(map[string]any)
			exp, ok := o["Export"].(map[string]any)
			if !ok {
				continue
			}
			where := "Outputs." + id + ".Export.Name"
			name, ok := s.literal(exp["Name"])
			if !ok {
				c.problem(s, where, "export name %s is not built from strings and pseudo parameters, so no import of it can be checked before deploy: build it from strings, Fn::Join, Fn::Sub and AWS::AccountId, AWS::Region, AWS::StackName", show(exp["Name"]))
				continue
			}
			key := s.env() + " " + name
			for _, other := range c.exports[key] {
				c.problem(s, where, "export %q is exported by stack %s (Outputs.%s) too, in the same account and region (%s): export names are unique per account and region, so the second stack to deploy fails; rename one export",
					name, other.stack.name, other.id, s.env())
			}
			c.exports[key] = append(c.exports[key], place{s, id})
		}
	}
}

func (c *checker) importValue(s *stack, arg any, where string) {
	c.report.Imports++
	where += ".Fn::ImportValue"
	name, ok := s.literal(arg)
	if !ok {
		c.problem(s, where, "the export name %s is not built from strings and pseudo parameters, so whether the export exists when this stack deploys cannot be checked: build it from strings, Fn::Join, Fn::Sub and AWS::AccountId, AWS::Region, AWS::StackName", show(arg))
		return
	}
	exps := c.exports[s.env()+" "+name]
	if len(exps) == 0 {
		var elsewhere []string
		for _, key := range sortedKeys(c.exports) {
			env, n, _ := strings.Cut(key, " ")
			if n == name {
				for _, e := range c.exports[key] {
					elsewhere = append(elsewhere, fmt.Sprintf("stack %s (Outputs.%s) in %s", e.stack.name, e.id, env))
				}
			}
		}
		if len(elsewhere) > 0 {
			c.problem(s, where, "imports %q, which only %s exports, and Fn::ImportValue reads the exports of this stack's own account and region (%s): read the value with Fn::GetStackOutput (a weak reference) instead, or export it in %s",
				name, strings.Join(elsewhere, ", "), s.env(), s.env())
			return
		}
		c.problem(s, where, "imports %q, which no stack of the assembly exports in %s: add an output with Export.Name %q to the stack that makes the value, or fix the name", name, s.env(), name)
		return
	}
	e := exps[0]
	switch {
	case e.stack == s:
		c.problem(s, where, "imports %q, which this stack exports itself (Outputs.%s): an export exists only after its stack deployed; use the value itself (Ref or Fn::GetAtt)", name, e.id)
	case !c.dependsOn(s, e.stack):
		c.problem(s, where, "imports %q from stack %s (Outputs.%s), but does not depend on %s, so it may deploy first and fail (No export named %s found): add a dependency on %s (AddStackDependency)",
			name, e.stack.name, e.id, e.stack.name, name, e.stack.name)
	}
}

// roleArn matches an IAM role ARN; unknown parts (the partition, say) are holes.
var roleArn = regexp.MustCompile(`^arn:[^:]*:iam::([^:]*):role/(.*)$`)

func (c *checker) stackOutput(s *stack, arg any, where string) {
	c.report.StackOutputs++
	where += ".Fn::GetStackOutput"
	ref, ok := arg.(map[string]any)
	if !ok || ref["StackName"] == nil || ref["OutputName"] == nil {
		c.problem(s, where, "takes an object with StackName, OutputName and optionally Region and RoleArn, not %s", show(arg))
		return
	}
	field := func(key, fallback string) (string, bool) {
		v, present := ref[key]
		if !present {
			return fallback, true
		}
		value, ok := s.literal(v)
		if !ok {
			c.problem(s, where+"."+key, "%s is not built from strings and pseudo parameters, so the read cannot be checked before deploy: build it from strings, Fn::Join, Fn::Sub and AWS::AccountId, AWS::Region, AWS::StackName", show(v))
		}
		return value, ok
	}
	name, ok1 := field("StackName", "")
	output, ok2 := field("OutputName", "")
	region, ok3 := field("Region", s.region)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	// The account is the RoleArn's (the role CloudFormation assumes to read
	// the stack), else the reader's own.
	account, role := s.account, ""
	if arn, present := ref["RoleArn"]; present {
		account = ""
		if m := roleArn.FindStringSubmatch(s.eval(arn)); m != nil {
			if !strings.Contains(m[1], hole) {
				account = m[1]
			}
			if r := m[2]; !strings.Contains(r, hole) {
				role = r[strings.LastIndex(r, "/")+1:]
			}
		}
	}
	var found, named []*stack
	for _, p := range c.stacks {
		if p.name == name {
			named = append(named, p)
			if p.region == region && (account == "" || p.account == account) {
				found = append(found, p)
			}
		}
	}
	env := "aws://" + account + "/" + region
	if account == "" {
		env = region + " (account unknown: RoleArn " + show(ref["RoleArn"]) + ")"
	}
	switch {
	case len(found) == 0:
		var envs []string
		for _, p := range named {
			envs = append(envs, p.env())
		}
		fix := "fix StackName, Region or the account in RoleArn"
		if len(named) > 0 {
			fix = "stack " + name + " is in " + strings.Join(envs, ", ") + ": fix Region or the account in RoleArn"
			if _, present := ref["RoleArn"]; !present && named[0].account != s.account {
				fix = "stack " + name + " is in " + strings.Join(envs, ", ") + ": reading another account's stack needs a RoleArn, a role in that account that may describe the stack"
			}
		}
		c.problem(s, where, "reads output %s of stack %s in %s, and the assembly has no such stack: %s", output, name, env, fix)
		return
	case len(found) > 1:
		c.problem(s, where, "reads stack %s in %s, which names %d stacks of the assembly: give RoleArn a literal account", name, env, len(found))
		return
	}
	p := found[0]
	outputs, _ := p.tpl["Outputs"].(map[string]any)
	if _, ok := outputs[output]; !ok {
		c.problem(s, where, "reads output %s of stack %s (%s), which has no such output (it has %s): fix OutputName, or add the output to %s",
			output, p.name, p.env(), strings.Join(sortedKeys(outputs), ", "), p.name)
		return
	}
	if p == s {
		c.problem(s, where, "reads output %s of this stack itself, which exists only after the stack deployed: use the value itself (Ref or Fn::GetAtt)", output)
		return
	}
	if !c.dependsOn(s, p) {
		c.problem(s, where, "reads output %s of stack %s (%s), but does not depend on it, so it may deploy first and fail to read the output: add a dependency on %s (AddStackDependency)",
			output, p.name, p.env(), p.name)
	}
	if role != "" {
		c.readerRole(s, p, where+".RoleArn", role)
	}
}

// readerRole checks that a stack of the account of p, the stack s reads,
// creates the role named role, and that s depends on that stack.
func (c *checker) readerRole(s, p *stack, where, role string) {
	if c.roles == nil {
		c.roles = map[string]place{}
		for _, o := range c.stacks {
			resources, _ := o.tpl["Resources"].(map[string]any)
			for _, id := range sortedKeys(resources) {
				r, _ := resources[id].(map[string]any)
				props, _ := r["Properties"].(map[string]any)
				if r["Type"] != "AWS::IAM::Role" || props == nil {
					continue
				}
				if name, ok := o.literal(props["RoleName"]); ok {
					c.roles[o.account+" "+name] = place{o, id}
				}
			}
		}
	}
	r, ok := c.roles[p.account+" "+role]
	switch {
	case !ok:
		c.problem(s, where, "names role %s in account %s, which no stack of the assembly creates (no AWS::IAM::Role with that RoleName), so CloudFormation cannot assume it to read the output: fix the RoleArn, or create the role in the stack that has the output", role, p.account)
	case r.stack != s && r.stack != p && !c.dependsOn(s, r.stack):
		c.problem(s, where, "names role %s, which stack %s creates (Resources.%s), but does not depend on %s: add a dependency on it (AddStackDependency)", role, r.stack.name, r.id, r.stack.name)
	}
}

// stackSets checks the inline templates of s's StackSets and the
// parameters the StackSets pass to them.
func (c *checker) stackSets(s *stack) {
	resources, _ := s.tpl["Resources"].(map[string]any)
	for _, id := range sortedKeys(resources) {
		r, _ := resources[id].(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		if r["Type"] != "AWS::CloudFormation::StackSet" || props["TemplateBody"] == nil {
			continue
		}
		where := "Resources." + id + ".Properties"
		text, ok := props["TemplateBody"].(string)
		if !ok {
			c.problem(s, where+".TemplateBody", "is not a plain string but %s, so the StackSet's template cannot be checked: pass the template as a string", show(props["TemplateBody"]))
			continue
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(text), &body); err != nil {
			c.problem(s, where+".TemplateBody", "is not a JSON template (%v), so the StackSet's template cannot be checked: pass it as JSON", err)
			continue
		}
		c.report.StackSetTemplates++
		walk(body, func(fn string, _ any, inner string) {
			c.problem(s, where+".TemplateBody", "the StackSet's template has %s at %s: its stack instances deploy in member accounts and regions, where no export or stack of this assembly is; pass the value in as a StackSet parameter (Parameters of %s), read in this stack",
				fn, inner, id)
		})
		declared, _ := body["Parameters"].(map[string]any)
		given := map[string]bool{}
		check := func(list any, at string) {
			items, _ := list.([]any)
			for i, item := range items {
				p, _ := item.(map[string]any)
				key, ok := p["ParameterKey"].(string)
				if !ok {
					continue
				}
				if at == "Parameters" {
					given[key] = true
				}
				if _, ok := declared[key]; !ok {
					c.problem(s, fmt.Sprintf("%s.%s[%d]", where, at, i), "passes parameter %s, which the StackSet's template does not declare (it declares %s): CloudFormation refuses the StackSet; declare it in the template or drop it",
						key, strings.Join(sortedKeys(declared), ", "))
				}
			}
		}
		check(props["Parameters"], "Parameters")
		groups, _ := props["StackInstancesGroup"].([]any)
		for i, g := range groups {
			m, _ := g.(map[string]any)
			check(m["ParameterOverrides"], fmt.Sprintf("StackInstancesGroup[%d].ParameterOverrides", i))
		}
		for _, key := range sortedKeys(declared) {
			p, _ := declared[key].(map[string]any)
			if _, ok := p["Default"]; !ok && !given[key] {
				c.problem(s, where+".Parameters", "gives no value for the template's parameter %s, which has no default: each stack instance fails (Parameters: [%s] must have values), and accounts that automatic deployment adds never get an override; pass it in Parameters",
					key, key)
			}
		}
	}
}

// walk calls f for each Fn::ImportValue and Fn::GetStackOutput in v, with
// its argument and the place of the object that holds it; it does not look
// inside their arguments.
func walk(v any, f func(fn string, arg any, where string)) {
	var path []string // the place, built only when f needs it
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x { // in any order: problems are sorted
				if k == "Fn::ImportValue" || k == "Fn::GetStackOutput" {
					f(k, e, strings.Join(path, ""))
					continue
				}
				if len(path) == 0 {
					path = append(path, k)
				} else {
					path = append(path, "."+k)
				}
				visit(e)
				path = path[:len(path)-1]
			}
		case []any:
			for i, e := range x {
				path = append(path, "["+strconv.Itoa(i)+"]")
				visit(e)
				path = path[:len(path)-1]
			}
		}
	}
	visit(v)
}

// hole stands, in an evaluated string, for a part not known before deploy.
const hole = "\x00"

// literal returns v's value when it is known before deploy.
func (s *stack) literal(v any) (string, bool) {
	r := s.eval(v)
	return r, !strings.Contains(r, hole)
}

// eval returns the string v evaluates to when s deploys, with hole in place
// of each part not known before: strings, numbers, Fn::Join, Fn::Sub and the
// pseudo parameters AWS::AccountId, AWS::Region and AWS::StackName are known.
func (s *stack) eval(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64, bool:
		return fmt.Sprint(x)
	case map[string]any:
		if len(x) != 1 {
			return hole
		}
		if ref, ok := x["Ref"].(string); ok {
			return s.pseudo(ref)
		}
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, ok1 := join[0].(string)
			parts, ok2 := join[1].([]any)
			if !ok1 || !ok2 {
				return hole
			}
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = s.eval(p)
			}
			return strings.Join(out, sep)
		}
		if sub, ok := x["Fn::Sub"]; ok {
			return s.sub(sub)
		}
	}
	return hole
}

func (s *stack) pseudo(name string) string {
	value := map[string]string{"AWS::AccountId": s.account, "AWS::Region": s.region, "AWS::StackName": s.name}[name]
	if value == "" || strings.HasPrefix(value, "unknown-") {
		return hole
	}
	return value
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub evaluates Fn::Sub: a string, or a string and its variables.
func (s *stack) sub(arg any) string {
	text, ok := arg.(string)
	vars := map[string]any{}
	if list, isList := arg.([]any); isList && len(list) == 2 {
		text, ok = list[0].(string)
		vars, _ = list[1].(map[string]any)
	}
	if !ok {
		return hole
	}
	return subVariable.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return s.eval(v)
		}
		return s.pseudo(name)
	})
}

// show writes a template value for a message.
func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
