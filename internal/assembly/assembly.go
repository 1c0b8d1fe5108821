// Package assembly reads a synthesized cloud assembly (a cdk.out directory)
// and finds what would fail its deploy: error-level metadata (cdk-nag
// findings, construct validation errors) and cross-stack references that do
// not resolve in deploy order (References).
package assembly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Check returns every problem of the cloud assembly in dir, one line each,
// or nil: the error-level metadata it records and what References finds.
func Check(dir string) error {
	a, err := load(dir)
	if err != nil {
		return err
	}
	var problems []string
	for _, s := range a.stacks {
		for path, entries := range s.metadata {
			for _, e := range entries {
				if e.Type == "aws:cdk:error" {
					problems = append(problems, fmt.Sprintf("%s: %v", path, e.Data))
				}
			}
		}
	}
	for _, p := range a.references().Problems {
		problems = append(problems, p.String())
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%d error(s) in the synthesized stacks, nothing written:\n  %s", len(problems), strings.Join(problems, "\n  "))
}

// assembly is what the checks read of a cloud assembly.
type assembly struct {
	// stacks are the CloudFormation stacks, by stack name.
	stacks []*stack
	// deps holds every artifact's dependencies (stacks, asset manifests, ...), by artifact id.
	deps map[string][]string
}

// stack is one CloudFormation stack of the assembly.
type stack struct {
	id      string // artifact id
	name    string // CloudFormation stack name
	account string
	region  string
	tpl     map[string]any
	// metadata is the stack's metadata by construct path (manifest and
	// <stack>.metadata.json); constructs maps a logical id to its construct path.
	metadata   map[string][]metadataEntry
	constructs map[string]string
}

type metadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// env is how messages write a stack's environment.
func (s *stack) env() string { return "aws://" + s.account + "/" + s.region }

func load(dir string) (*assembly, error) {
	var m struct {
		Artifacts map[string]struct {
			Type         string   `json:"type"`
			Environment  string   `json:"environment"`
			Dependencies []string `json:"dependencies"`
			Properties   struct {
				TemplateFile string `json:"templateFile"`
				StackName    string `json:"stackName"`
			} `json:"properties"`
			Metadata               map[string][]metadataEntry `json:"metadata"`
			AdditionalMetadataFile string                     `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return nil, err
	}
	a := &assembly{deps: map[string][]string{}}
	for id, art := range m.Artifacts {
		a.deps[id] = art.Dependencies
		if art.Type != "aws:cloudformation:stack" {
			continue
		}
		s := &stack{id: id, name: art.Properties.StackName, metadata: map[string][]metadataEntry{}, constructs: map[string]string{}}
		if s.name == "" {
			s.name = id
		}
		env := strings.TrimPrefix(art.Environment, "aws://")
		s.account, s.region, _ = strings.Cut(env, "/")
		if err := readJSON(filepath.Join(dir, art.Properties.TemplateFile), &s.tpl); err != nil {
			return nil, err
		}
		for path, entries := range art.Metadata {
			s.metadata[path] = append(s.metadata[path], entries...)
		}
		if art.AdditionalMetadataFile != "" {
			var md map[string][]metadataEntry
			if err := readJSON(filepath.Join(dir, art.AdditionalMetadataFile), &md); err != nil {
				return nil, err
			}
			for path, entries := range md {
				s.metadata[path] = append(s.metadata[path], entries...)
			}
		}
		for path, entries := range s.metadata {
			for _, e := range entries {
				if id, ok := e.Data.(string); ok && e.Type == "aws:cdk:logicalId" {
					s.constructs[id] = path
				}
			}
		}
		a.stacks = append(a.stacks, s)
	}
	sort.Slice(a.stacks, func(i, j int) bool { return a.stacks[i].name < a.stacks[j].name })
	return a, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return nil
}
