// Package cfndiff compares two cloud assemblies offline, without
// credentials: per account, region and stack, the stacks added and removed
// (with the order to delete them), and the resources added, removed,
// modified and replaced, from each resource type's create-only properties
// (CloudFormation's resource schemas, createonly.json). It opens what a
// plain template diff cannot show: the template a StackSet deploys, the
// files an EC2 user data writes (its own and those it fetches from SSM
// parameters), and what a change means for running traffic.
package cfndiff

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/obslink/obslink/internal/assembly"
)

// Stack is one stack of a cloud assembly.
type Stack struct {
	Name, Account, Region string
	// DependsOn names the stacks this one deploys after.
	DependsOn []string
	Template  Template
}

// Template is a CloudFormation template, loosely typed.
type Template struct {
	Parameters map[string]any      `json:"Parameters"`
	Resources  map[string]Resource `json:"Resources"`
	Outputs    map[string]any      `json:"Outputs"`
}

// Resource is one resource of a template.
type Resource struct {
	Type       string
	Properties map[string]any
	// Attributes holds the resource's other keys (DependsOn, UpdatePolicy,
	// CreationPolicy, DeletionPolicy, Metadata, Condition, ...).
	Attributes map[string]any
}

// UnmarshalJSON reads a resource, keeping every key besides Type and
// Properties in Attributes.
func (r *Resource) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.Type, _ = m["Type"].(string)
	r.Properties, _ = m["Properties"].(map[string]any)
	delete(m, "Type")
	delete(m, "Properties")
	r.Attributes = m
	return nil
}

// ParseTemplate reads a template from its JSON text.
func ParseTemplate(b []byte) (Template, error) {
	var t Template
	err := json.Unmarshal(b, &t)
	return t, err
}

// IsAssembly reports whether dir holds a cloud assembly (a manifest.json).
func IsAssembly(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "manifest.json"))
	return err == nil && !st.IsDir()
}

// ReadAssembly reads the stacks of the cloud assembly in dir (cdk.out), in
// name order.
func ReadAssembly(dir string) ([]Stack, error) {
	m, err := assembly.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a cloud assembly: %w; give a directory that cdk synth or obslink synth wrote, or a topology file", dir, err)
	}
	names := map[string]string{} // artifact id -> stack name
	for id, a := range m.Artifacts {
		if a.IsStack() {
			names[id] = a.StackName(id)
		}
	}
	var out []Stack
	for id, a := range m.Artifacts {
		if !a.IsStack() {
			continue
		}
		account, region := a.Env()
		s := Stack{Name: names[id], Account: account, Region: region}
		for _, d := range a.Dependencies {
			if n, ok := names[d]; ok {
				s.DependsOn = append(s.DependsOn, n)
			}
		}
		sort.Strings(s.DependsOn)
		path := filepath.Join(dir, a.Properties.TemplateFile)
		tb, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Name, err)
		}
		if s.Template, err = ParseTemplate(tb); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the cloud assembly holds no stack", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
