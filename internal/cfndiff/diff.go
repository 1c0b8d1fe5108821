package cfndiff

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Kind is what happens to a stack or a resource.
type Kind int

// The kinds, in the order a deploy is most wary of them.
const (
	Unchanged Kind = iota
	Added
	Modified
	Replaced
	Removed
)

// String names the kind as the report does.
func (k Kind) String() string {
	return [...]string{"unchanged", "added", "modified", "replaced", "removed"}[k]
}

// Report is the difference between two cloud assemblies.
type Report struct {
	// Stacks are the stacks that change, by account, region and name.
	Stacks []StackDiff
	// Impacts say what the change means for running traffic, in stack order.
	Impacts []Impact
}

// Changed reports whether anything differs.
func (r Report) Changed() bool { return len(r.Stacks) > 0 }

// StackDiff is one stack's change.
type StackDiff struct {
	Name, Account, Region string
	Kind                  Kind // Added, Modified or Removed
	// DeleteOrder is, for a removed stack, its place (from 1) in the order
	// to delete the removed stacks: dependents before what they depend on.
	DeleteOrder int
	Template    TemplateDiff
}

// TemplateDiff is the difference between two templates.
type TemplateDiff struct {
	Resources  []ResourceDiff
	Parameters []Change
	Outputs    []Change
}

// Counts returns how many resources are added, modified, replaced and removed.
func (d TemplateDiff) Counts() map[Kind]int {
	n := map[Kind]int{}
	for _, r := range d.Resources {
		n[r.Kind]++
	}
	return n
}

// Empty reports whether the templates are the same.
func (d TemplateDiff) Empty() bool {
	return len(d.Resources) == 0 && len(d.Parameters) == 0 && len(d.Outputs) == 0
}

// ResourceDiff is one resource's change.
type ResourceDiff struct {
	ID, Type string
	Kind     Kind
	// Conditional: the replacement comes from a conditionally create-only
	// property, so the resource may be replaced, or updated.
	Conditional bool
	// Why says why the resource is replaced.
	Why []string
	// Label names an added or removed resource (its Name, AlarmName, ...).
	Label string
	// Changes are the changed properties and attributes.
	Changes []Change
	// Files are the files the user data writes that change: its own and
	// those it fetches from SSM parameters.
	Files []FileDiff
	// Template is the change of the template a StackSet deploys.
	Template *TemplateDiff

	old, new Resource
}

// Change is one changed value. Path is dotted (Properties.Tags[2].Value);
// a path ending in [] is an array element added (Old nil) or removed (New
// nil). Text holds a unified diff when both values are text of several
// lines.
type Change struct {
	Path     string
	Old, New any
	Text     string
}

// FileDiff is a file that a launch template's user data writes, added,
// removed or modified, with its unified diff.
type FileDiff struct {
	Path string
	Kind Kind
	Text string
	// Fetched is true for a file of the files script that the user data
	// fetches at boot from SSM parameters (the proxies' files), false for
	// one written by the user data itself.
	Fetched bool
}

// Place says where the file is: in SSM parameters the user data fetches
// at boot, or in the user data.
func (f FileDiff) Place() string {
	switch {
	case f.Fetched:
		return "file in SSM parameters, fetched at boot"
	case f.Path == ScriptFile:
		return "user data"
	}
	return "file in the user data"
}

// Compare returns what changes from the stacks old to the stacks new.
func Compare(old, new []Stack) (Report, error) {
	table, err := CreateOnlyTable()
	if err != nil {
		return Report{}, err
	}
	key := func(s Stack) string { return s.Account + "/" + s.Region + "/" + s.Name }
	olds, news := map[string]Stack{}, map[string]Stack{}
	for _, s := range old {
		olds[key(s)] = s
	}
	for _, s := range new {
		news[key(s)] = s
	}
	var r Report
	for k, s := range olds {
		n, ok := news[k]
		if !ok {
			r.Stacks = append(r.Stacks, StackDiff{Name: s.Name, Account: s.Account, Region: s.Region, Kind: Removed,
				Template: compareTemplates(table, s.Template, Template{})})
			continue
		}
		if d := compareTemplates(table, s.Template, n.Template); !d.Empty() {
			r.Stacks = append(r.Stacks, StackDiff{Name: s.Name, Account: s.Account, Region: s.Region, Kind: Modified, Template: d})
		}
	}
	for k, s := range news {
		if _, ok := olds[k]; !ok {
			r.Stacks = append(r.Stacks, StackDiff{Name: s.Name, Account: s.Account, Region: s.Region, Kind: Added,
				Template: compareTemplates(table, Template{}, s.Template)})
		}
	}
	sort.Slice(r.Stacks, func(i, j int) bool {
		a, b := r.Stacks[i], r.Stacks[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Name < b.Name
	})
	deleteOrder(r.Stacks, old)
	r.Impacts = impacts(r.Stacks, olds, news, key)
	return r, nil
}

// deleteOrder numbers the removed stacks so that none is deleted before a
// stack that depends on it (the old assembly's dependencies), ties by name.
func deleteOrder(diffs []StackDiff, old []Stack) {
	removed := map[string]*StackDiff{}
	for i := range diffs {
		if diffs[i].Kind == Removed {
			removed[diffs[i].Name] = &diffs[i]
		}
	}
	// dependents[x]: removed stacks that depend on x and are not deleted yet.
	dependents := map[string]int{}
	deps := map[string][]string{}
	for _, s := range old {
		if removed[s.Name] == nil {
			continue
		}
		for _, d := range s.DependsOn {
			if removed[d] != nil {
				dependents[d]++
				deps[s.Name] = append(deps[s.Name], d)
			}
		}
	}
	for n := 1; n <= len(removed); n++ {
		next := ""
		for name, d := range removed {
			if d.DeleteOrder == 0 && dependents[name] == 0 && (next == "" || name < next) {
				next = name
			}
		}
		if next == "" { // a cycle CDK would not have synthesized
			return
		}
		removed[next].DeleteOrder = n
		for _, d := range deps[next] {
			dependents[d]--
		}
	}
}

// compareTemplates returns the difference between two templates, with
// replacements worked out from the create-only properties.
func compareTemplates(table Table, old, new Template) TemplateDiff {
	var d TemplateDiff
	replaced := replacements(table, old, new)
	fetched := [2]map[string]string{fetchedFiles(old), fetchedFiles(new)}
	ids := map[string]bool{}
	for id := range old.Resources {
		ids[id] = true
	}
	for id := range new.Resources {
		ids[id] = true
	}
	for _, id := range sortedKeys(ids) {
		o, inOld := old.Resources[id]
		n, inNew := new.Resources[id]
		switch {
		case !inNew:
			d.Resources = append(d.Resources, ResourceDiff{ID: id, Type: o.Type, Kind: Removed, Label: label(o), old: o})
		case !inOld:
			rd := ResourceDiff{ID: id, Type: n.Type, Kind: Added, Label: label(n), new: n}
			if n.Type == stackSetType {
				rd.Template = nestedTemplate(table, nil, n.Properties["TemplateBody"])
			}
			d.Resources = append(d.Resources, rd)
		default:
			rd := ResourceDiff{ID: id, Type: n.Type, Kind: Modified, old: o, new: n}
			c := &collector{fetched: fetched}
			if isFetched(o, fetched[0]) && isFetched(n, fetched[1]) {
				// A chunk of a files script: its content shows as files, in the user data's diff.
				c.skip = "Properties.Value"
			}
			c.values("Properties", toAny(o.Properties), toAny(n.Properties))
			for _, a := range sortedKeys(union(o.Attributes, n.Attributes)) {
				c.values(a, o.Attributes[a], n.Attributes[a])
			}
			if o.Type != n.Type {
				c.changes = append(c.changes, Change{Path: "Type", Old: o.Type, New: n.Type})
			}
			rd.Changes, rd.Files = c.changes, c.files
			if n.Type == stackSetType {
				rd.Changes = without(rd.Changes, "Properties.TemplateBody")
				if nested := nestedTemplate(table, o.Properties["TemplateBody"], n.Properties["TemplateBody"]); nested != nil {
					rd.Template = nested
				}
			}
			if why, ok := replaced[id]; ok {
				rd.Kind, rd.Why, rd.Conditional = Replaced, why.reasons, why.conditional
			} else if !table.Known(n.Type) {
				rd.Why = []string{"replacement not known: " + n.Type + " is not in the create-only table (internal/cfndiff/createonly.json)"}
			}
			if rd.Kind == Modified && len(rd.Changes) == 0 && len(rd.Files) == 0 && rd.Template == nil {
				continue
			}
			d.Resources = append(d.Resources, rd)
		}
	}
	d.Parameters = namedChanges("Parameters", old.Parameters, new.Parameters)
	d.Outputs = namedChanges("Outputs", old.Outputs, new.Outputs)
	return d
}

const stackSetType = "AWS::CloudFormation::StackSet"

// nestedTemplate compares the templates a StackSet deploys (its
// TemplateBody, JSON); nil when they are the same or not JSON templates.
func nestedTemplate(table Table, old, new any) *TemplateDiff {
	parse := func(v any) (Template, bool) {
		if v == nil {
			return Template{}, true
		}
		s, ok := v.(string)
		if !ok {
			return Template{}, false
		}
		t, err := ParseTemplate([]byte(s))
		return t, err == nil
	}
	o, ok1 := parse(old)
	n, ok2 := parse(new)
	if !ok1 || !ok2 {
		return nil
	}
	d := compareTemplates(table, o, n)
	if d.Empty() {
		return nil
	}
	return &d
}

// namedChanges compares two sections of named values (Parameters, Outputs).
func namedChanges(section string, old, new map[string]any) []Change {
	var out []Change
	for _, k := range sortedKeys(union(old, new)) {
		o, n := old[k], new[k]
		if !reflect.DeepEqual(o, n) {
			out = append(out, Change{Path: section + "." + k, Old: o, New: n})
		}
	}
	return out
}

func without(cs []Change, prefix string) []Change {
	var out []Change
	for _, c := range cs {
		if c.Path != prefix && !strings.HasPrefix(c.Path, prefix+".") && !strings.HasPrefix(c.Path, prefix+"[") && !strings.HasPrefix(c.Path, prefix+"(") {
			out = append(out, c)
		}
	}
	return out
}

// labelProps name a resource in a report line, first found first.
var labelProps = []string{"Name", "AlarmName", "StackSetName", "DashboardName", "FunctionName", "LogGroupName",
	"RoleName", "TopicName", "GroupDescription", "ServiceName", "DestinationCidrBlock", "CidrBlock"}

func label(r Resource) string {
	for _, p := range labelProps {
		if s, ok := r.Properties[p].(string); ok {
			return s
		}
	}
	return ""
}

// collector gathers the changes of one resource.
type collector struct {
	changes []Change
	files   []FileDiff
	// fetched are the files scripts of the old and new templates (fetchedFiles).
	fetched [2]map[string]string
	// skip is a path whose change the diff shows elsewhere.
	skip string
}

// values records how a differs from b at path.
func (c *collector) values(path string, a, b any) {
	if reflect.DeepEqual(a, b) || ignored(path) || path == c.skip {
		return
	}
	if strings.HasSuffix(path, ".UserData") {
		if files, ok := userDataDiff(a, b, c.fetched); ok {
			c.files = append(c.files, files...)
			return
		}
	}
	// JSON inside a string (a dashboard body, a custom resource's call),
	// or joined from pieces and references: compare what it says.
	if x, ok := jsonText(a); ok {
		if y, ok := jsonText(b); ok {
			c.values(path+"(JSON)", x, y)
			return
		}
	}
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok && !isIntrinsic(x) && !isIntrinsic(y) {
			for _, k := range sortedKeys(union(x, y)) {
				c.values(path+"."+k, x[k], y[k])
			}
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			c.arrays(path, x, y)
			return
		}
	case string:
		if y, ok := b.(string); ok && strings.Contains(x, "\n") && strings.Contains(y, "\n") {
			c.changes = append(c.changes, Change{Path: path, Old: a, New: b, Text: unified(path, x, y)})
			return
		}
	}
	c.changes = append(c.changes, Change{Path: path, Old: a, New: b})
}

// ignored are paths whose changes deploy nothing: the checkers'
// suppressions (CloudFormation does not update a resource for its Metadata
// alone).
func ignored(path string) bool {
	for _, p := range []string{"Metadata.cdk_nag", "Metadata.cfn-lint"} {
		if path == p || strings.HasPrefix(path, p+".") {
			return true
		}
	}
	return false
}

// jsonText returns the JSON object or array a string holds, or that a
// Fn::Join of strings and references (rendered as ${Id} and ${Id.Attr})
// makes.
func jsonText(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		m, isMap := v.(map[string]any)
		if !isMap || m["Fn::Join"] == nil {
			return nil, false
		}
		if s, ok = text(m); !ok {
			return nil, false
		}
	}
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return nil, false
	}
	var out any
	if json.Unmarshal([]byte(s), &out) != nil {
		return nil, false
	}
	return out, true
}

// arrays compares two arrays: element by element when they have the same
// length and only objects differ (a changed block device, tag
// specification), else as sets: elements removed, then added.
func (c *collector) arrays(path string, a, b []any) {
	if len(a) == len(b) {
		aligned := true
		for i := range a {
			if reflect.DeepEqual(a[i], b[i]) {
				continue
			}
			x, ok1 := a[i].(map[string]any)
			y, ok2 := b[i].(map[string]any)
			if !ok1 || !ok2 || isIntrinsic(x) || isIntrinsic(y) {
				aligned = false
			}
		}
		if aligned {
			for i := range a {
				c.values(path+"["+strconv.Itoa(i)+"]", a[i], b[i])
			}
			return
		}
	}
	count := func(xs []any) map[string]int {
		m := map[string]int{}
		for _, x := range xs {
			m[compact(x)]++
		}
		return m
	}
	inA, inB := count(a), count(b)
	var changed bool
	for _, x := range a {
		if k := compact(x); inB[k] > 0 {
			inB[k]--
		} else {
			c.changes = append(c.changes, Change{Path: path + "[]", Old: x})
			changed = true
		}
	}
	for _, x := range b {
		if k := compact(x); inA[k] > 0 {
			inA[k]--
		} else {
			c.changes = append(c.changes, Change{Path: path + "[]", New: x})
			changed = true
		}
	}
	if !changed { // the same elements in another order
		c.changes = append(c.changes, Change{Path: path, Old: a, New: b})
	}
}

// isIntrinsic reports whether m is a function call (Ref, Fn::GetAtt, ...),
// which compares as one value.
func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// unified returns a unified diff of two texts.
func unified(name, a, b string) string {
	text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(withNewline(a)), B: difflib.SplitLines(withNewline(b)),
		FromFile: "old " + name, ToFile: "new " + name, Context: 3,
	})
	return text
}

func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// compact is v as one line of JSON.
func compact(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// toAny turns a properties map into a value (nil for none).
func toAny(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

type replacement struct {
	reasons     []string
	conditional bool
}

// replacements returns the resources present in both templates that the
// change replaces, and why: their type changed, a create-only property
// changed, or a create-only property references (Ref, Fn::GetAtt, Fn::Sub)
// a resource that is replaced and so gets a new physical id.
func replacements(table Table, old, new Template) map[string]replacement {
	out := map[string]replacement{}
	for id, o := range old.Resources {
		n, ok := new.Resources[id]
		if !ok {
			continue
		}
		if n.Type != o.Type {
			out[id] = replacement{reasons: []string{"its type changed from " + o.Type}}
			continue
		}
		s := table.Types[o.Type]
		var r replacement
		for _, p := range s.CreateOnly {
			if !reflect.DeepEqual(pointer(o.Properties, p), pointer(n.Properties, p)) {
				r.reasons = append(r.reasons, "create-only "+propName(p)+" changed")
			}
		}
		if len(r.reasons) == 0 {
			for _, p := range s.Conditional {
				if !reflect.DeepEqual(pointer(o.Properties, p), pointer(n.Properties, p)) {
					r.reasons = append(r.reasons, "conditionally create-only "+propName(p)+" changed")
					r.conditional = true
				}
			}
		}
		if len(r.reasons) > 0 {
			out[id] = r
		}
	}
	// A replaced resource gets a new physical id: whatever names it in a
	// create-only property is replaced too.
	for changed := true; changed; {
		changed = false
		for _, id := range sortedKeys(new.Resources) {
			n := new.Resources[id]
			if _, done := out[id]; done {
				continue
			}
			if _, existed := old.Resources[id]; !existed {
				continue
			}
			for _, p := range table.Types[n.Type].CreateOnly {
				for _, ref := range refs(pointer(n.Properties, p)) {
					if why, ok := out[ref]; ok && !why.conditional {
						out[id] = replacement{reasons: []string{"create-only " + propName(p) + " references " + ref + ", which is replaced"}}
						changed = true
						break
					}
				}
				if _, done := out[id]; done {
					break
				}
			}
		}
	}
	return out
}

// propName is a schema pointer as the report names it: DnsOptions.PrivateDnsPreference.
func propName(p string) string {
	return strings.ReplaceAll(strings.TrimPrefix(p, "/properties/"), "/", ".")
}

// pointer returns the value at a schema pointer (/properties/A/B, * for
// every element of an array) in props; a list of values under a *.
func pointer(props map[string]any, p string) any {
	parts := strings.Split(strings.TrimPrefix(p, "/properties/"), "/")
	var walk func(v any, parts []string) any
	walk = func(v any, parts []string) any {
		if len(parts) == 0 || v == nil {
			return v
		}
		switch x := v.(type) {
		case map[string]any:
			return walk(x[parts[0]], parts[1:])
		case []any:
			if parts[0] != "*" {
				return nil
			}
			var out []any
			for _, e := range x {
				out = append(out, walk(e, parts[1:]))
			}
			return out
		}
		return nil
	}
	return walk(toAny(props), parts)
}

var reSubRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}`)

// refs returns the logical ids a value references (Ref, Fn::GetAtt, Fn::Sub).
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	case map[string]any:
		if r, ok := x["Ref"].(string); ok && len(x) == 1 {
			return []string{r}
		}
		if a, ok := x["Fn::GetAtt"].([]any); ok && len(x) == 1 && len(a) == 2 {
			if id, ok := a[0].(string); ok {
				return []string{id}
			}
		}
		if s, ok := x["Fn::Sub"]; ok && len(x) == 1 {
			text := s
			if args, ok := s.([]any); ok && len(args) == 2 {
				text = args[0]
				out = append(out, refs(args[1])...)
			}
			if t, ok := text.(string); ok {
				for _, m := range reSubRef.FindAllStringSubmatch(t, -1) {
					out = append(out, m[1])
				}
			}
			return out
		}
		for _, k := range sortedKeys(x) {
			out = append(out, refs(x[k])...)
		}
	}
	return out
}

func union[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
