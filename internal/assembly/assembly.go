// Package assembly reads a synthesized cloud assembly's metadata.
package assembly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Check returns the error-level metadata the cloud assembly in dir
// records (cdk-nag findings, construct validation errors), one line each, or
// nil. CDK writes each stack's metadata to <stack>.metadata.json.
func Check(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.metadata.json"))
	if err != nil {
		return err
	}
	var problems []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var md map[string][]struct {
			Type string `json:"type"`
			Data any    `json:"data"`
		}
		if err := json.Unmarshal(b, &md); err != nil {
			return fmt.Errorf("read %s: %w", filepath.Base(f), err)
		}
		for path, entries := range md {
			for _, e := range entries {
				if e.Type == "aws:cdk:error" {
					problems = append(problems, fmt.Sprintf("%s: %v", path, e.Data))
				}
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%d error(s) in the synthesized stacks, nothing written:\n  %s", len(problems), strings.Join(problems, "\n  "))
}
