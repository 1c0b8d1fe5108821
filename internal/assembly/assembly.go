// Package assembly reads a synthesized cloud assembly (a cdk.out directory)
// and finds what would fail its deploy: error-level metadata (cdk-nag
// findings, construct validation errors) and cross-stack references that do
// not resolve in deploy order (References).
package assembly

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
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
					var data any
					_ = json.Unmarshal(e.Data, &data)
					problems = append(problems, fmt.Sprintf("%s: %v", path, data))
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
	metadata   map[string][]MetadataEntry
	constructs map[string]string
}

// MetadataEntry is one metadata entry of a construct path.
type MetadataEntry struct {
	Type string `json:"type"`
	// Data is decoded only for the entries a check reads (a stack's
	// metadata is mostly creation stacks).
	Data json.RawMessage `json:"data"`
}

// env is how messages write a stack's environment.
func (s *stack) env() string { return "aws://" + s.account + "/" + s.region }

// Manifest is what obslink reads of a cloud assembly's manifest.json.
type Manifest struct {
	// Artifacts by artifact id.
	Artifacts map[string]Artifact `json:"artifacts"`
}

// Artifact is one artifact of a Manifest: a stack, an asset manifest, ...
type Artifact struct {
	Type         string   `json:"type"`
	Environment  string   `json:"environment"`
	Dependencies []string `json:"dependencies"`
	Properties   struct {
		TemplateFile string `json:"templateFile"`
		StackName    string `json:"stackName"`
	} `json:"properties"`
	Metadata               map[string][]MetadataEntry `json:"metadata"`
	AdditionalMetadataFile string                     `json:"additionalMetadataFile"`
}

// IsStack reports whether the artifact is a CloudFormation stack.
func (a Artifact) IsStack() bool { return a.Type == "aws:cloudformation:stack" }

// StackName is the stack's CloudFormation name: its stackName, else its
// artifact id.
func (a Artifact) StackName(id string) string {
	if a.Properties.StackName != "" {
		return a.Properties.StackName
	}
	return id
}

// Env returns the account and region of the artifact's environment
// (aws://account/region).
func (a Artifact) Env() (account, region string) {
	account, region, _ = strings.Cut(strings.TrimPrefix(a.Environment, "aws://"), "/")
	return account, region
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func load(dir string) (*assembly, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	a := &assembly{deps: map[string][]string{}}
	files := map[*stack][2]string{} // template file, additional metadata file
	for id, art := range m.Artifacts {
		a.deps[id] = art.Dependencies
		if !art.IsStack() {
			continue
		}
		s := &stack{id: id, name: art.StackName(id), metadata: map[string][]MetadataEntry{}, constructs: map[string]string{}}
		s.account, s.region = art.Env()
		for path, entries := range art.Metadata {
			s.metadata[path] = append(s.metadata[path], entries...)
		}
		files[s] = [2]string{art.Properties.TemplateFile, art.AdditionalMetadataFile}
		a.stacks = append(a.stacks, s)
	}
	// The stacks are read in parallel: parsing JSON is most of a check's time.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		work = make(chan *stack)
	)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if err := s.read(dir, files[s][0], files[s][1]); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range a.stacks {
		work <- s
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(a.stacks, func(i, j int) bool { return a.stacks[i].name < a.stacks[j].name })
	return a, nil
}

// read reads the stack's template and its metadata file (if any) from dir.
func (s *stack) read(dir, templateFile, metadataFile string) error {
	if err := readJSON(filepath.Join(dir, templateFile), &s.tpl); err != nil {
		return err
	}
	if metadataFile != "" {
		var md map[string][]MetadataEntry
		if err := readJSON(filepath.Join(dir, metadataFile), &md); err != nil {
			return err
		}
		for path, entries := range md {
			s.metadata[path] = append(s.metadata[path], entries...)
		}
	}
	for path, entries := range s.metadata {
		for _, e := range entries {
			var id string
			if e.Type == "aws:cdk:logicalId" && json.Unmarshal(e.Data, &id) == nil {
				s.constructs[id] = path
			}
		}
	}
	return nil
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
