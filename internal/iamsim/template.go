package iamsim

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/obslink/obslink/topology"
)

// Env is a stack's account and region: the values of its pseudo parameters.
type Env = topology.Env

// Template is a synthesized CloudFormation template and its stack's environment.
type Template struct {
	Name      string
	Env       Env
	Resources map[string]Resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
	// Size is the template's size in bytes as written.
	Size int
	// Parameters counts the template's parameters.
	Parameters map[string]any `json:"Parameters"`
}

// Resource is one template resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// LoadTemplate reads a template written by synthesis.
func LoadTemplate(path, name string, env Env) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &Template{Name: name, Env: env, Size: len(b)}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return t, nil
}

// Resolve returns v as IAM and CloudFormation would see it at deploy time:
// pseudo parameters become the stack's values; Fn::Join and Fn::Sub are
// evaluated; Ref and Fn::GetAtt of the template's resources become
// placeholders "ref-<id>" and "ref-<id>-<attribute>" (physical ids are not
// known before a deploy); Fn::GetStackOutput becomes "out-<OutputName>".
func (t *Template) Resolve(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = t.Resolve(e)
		}
		return out
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if s, ok := t.intrinsic(k, arg); ok {
					return s
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = t.Resolve(e)
		}
		return out
	}
	return v
}

// ResolveString resolves v and requires a string.
func (t *Template) ResolveString(v any) string {
	s, ok := t.Resolve(v).(string)
	if !ok {
		panic(fmt.Sprintf("iamsim: %s: %v does not resolve to a string", t.Name, v))
	}
	return s
}

var reSub = regexp.MustCompile(`\$\{([^}]+)\}`)

func (t *Template) intrinsic(name string, arg any) (any, bool) {
	switch name {
	case "Ref":
		id, _ := arg.(string)
		return t.ref(id), true
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			panic(fmt.Sprintf("iamsim: %s: Fn::GetAtt %v", t.Name, arg))
		}
		return fmt.Sprintf("ref-%s-%s", parts[0], parts[1]), true
	case "Fn::Join":
		parts, _ := arg.([]any)
		sep, _ := parts[0].(string)
		var ss []string
		for _, p := range t.Resolve(parts[1]).([]any) {
			ss = append(ss, fmt.Sprint(p))
		}
		return strings.Join(ss, sep), true
	case "Fn::Sub":
		s, ok := arg.(string)
		if !ok {
			panic(fmt.Sprintf("iamsim: %s: Fn::Sub with variables is not supported: %v", t.Name, arg))
		}
		return reSub.ReplaceAllStringFunc(s, func(m string) string {
			return fmt.Sprint(t.ref(m[2 : len(m)-1]))
		}), true
	case "Fn::GetStackOutput":
		m, _ := arg.(map[string]any)
		return fmt.Sprintf("out-%v", m["OutputName"]), true
	}
	return nil, false
}

func (t *Template) ref(id string) string {
	switch id {
	case "AWS::Partition":
		return topology.Partition(t.Env.Region)
	case "AWS::Region":
		return t.Env.Region
	case "AWS::AccountId":
		return t.Env.Account
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::StackName":
		return t.Name
	case "AWS::StackId":
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/0f0e0d0c-0b0a-0908-0706-050403020100", topology.Partition(t.Env.Region), t.Env.Region, t.Env.Account, t.Name)
	}
	if _, ok := t.Resources[id]; !ok {
		panic(fmt.Sprintf("iamsim: %s: Ref to %s, which is no resource or pseudo parameter here", t.Name, id))
	}
	return "ref-" + id
}

// Role is an IAM role of a template with its policies resolved.
type Role struct {
	LogicalID string
	Name      string
	Arn       string
	Trust     any
	// Policies are the role's identity policy documents: inline Policies and
	// AWS::IAM::Policy resources attached to it. Managed policies are listed
	// in Managed, not evaluated.
	Policies []any
	Managed  []string
}

// Roles returns the template's roles by logical id. A role without a
// RoleName gets the placeholder name "ref-<id>".
func (t *Template) Roles() map[string]*Role {
	out := map[string]*Role{}
	for id, r := range t.Resources {
		if r.Type != "AWS::IAM::Role" {
			continue
		}
		role := &Role{LogicalID: id, Name: "ref-" + id, Trust: t.Resolve(r.Properties["AssumeRolePolicyDocument"])}
		if n, ok := r.Properties["RoleName"]; ok {
			role.Name = t.ResolveString(n)
		}
		role.Arn = fmt.Sprintf("arn:%s:iam::%s:role/%s", topology.Partition(t.Env.Region), t.Env.Account, role.Name)
		if inline, ok := r.Properties["Policies"].([]any); ok {
			for _, p := range inline {
				role.Policies = append(role.Policies, t.Resolve(p.(map[string]any)["PolicyDocument"]))
			}
		}
		if managed, ok := r.Properties["ManagedPolicyArns"].([]any); ok {
			for _, m := range managed {
				role.Managed = append(role.Managed, t.ResolveString(m))
			}
		}
		out[id] = role
	}
	for _, id := range sortedIDs(t.Resources) {
		r := t.Resources[id]
		if r.Type != "AWS::IAM::Policy" {
			continue
		}
		roles, _ := r.Properties["Roles"].([]any)
		for _, ref := range roles {
			m, _ := ref.(map[string]any)
			if roleID, ok := m["Ref"].(string); ok && out[roleID] != nil {
				out[roleID].Policies = append(out[roleID].Policies, t.Resolve(r.Properties["PolicyDocument"]))
			}
		}
	}
	return out
}

// RoleByArn finds a role by its resolved ARN.
func (t *Template) RoleByArn(arn string) *Role {
	for _, r := range t.Roles() {
		if r.Arn == arn {
			return r
		}
	}
	return nil
}

// Find returns every value under key anywhere in v (depth first), for
// intrinsics such as Fn::GetStackOutput.
func Find(v any, key string) []any {
	var out []any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, Find(e, key)...)
		}
	case map[string]any:
		for _, k := range sortedIDs(x) {
			if k == key {
				out = append(out, x[k])
				continue
			}
			out = append(out, Find(x[k], key)...)
		}
	}
	return out
}

func sortedIDs[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
