package topology

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultFile []byte

// DefaultName is the name errors use for the embedded default topology.
const DefaultName = "default.yaml (embedded)"

// Default returns the embedded default topology: the seed's scenario.
func Default() (*Topology, error) { return Parse(DefaultName, defaultFile) }

// DefaultYAML returns the text of the embedded default topology.
func DefaultYAML() []byte { return bytes.Clone(defaultFile) }

// Load reads, validates and completes the topology file at path.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(path, data)
}

// FieldError is one problem in a topology file.
type FieldError struct {
	File string
	Line int    // 0 when the field is absent
	Path string // e.g. consumers[1].account
	Msg  string // names the value and the fix
}

// Error formats the problem as file:line: path: message.
func (e FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Path, e.Msg)
}

// Errors is every problem found in one file, in file order.
type Errors []FieldError

// Error lists every problem, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return fmt.Sprintf("%d problem(s) in topology:\n  %s", len(es), strings.Join(lines, "\n  "))
}

// Parse validates and completes a topology given as YAML text; name is used
// in error messages. On any problem it returns Errors with all of them.
func Parse(name string, data []byte) (*Topology, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{{File: name, Path: "(file)", Msg: fmt.Sprintf("not valid YAML: %v", err)}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{File: name, Path: "(file)", Msg: "must be a YAML mapping with keys name, controlPlane, services, regions, consumers; see docs/topology-file.md and docs/reference.md"}}
	}
	v := newValidator(name)
	v.walk(doc.Content[0], reflect.TypeOf(Topology{}), "")
	// walk reported unknown keys and misshapen values; decode what is there
	// anyway so that one run reports every problem in the file.
	var t Topology
	if err := yaml.Unmarshal(data, &t); err != nil {
		// walk explains misshapen values (and merge keys) with their path;
		// the decoder's words are a fallback.
		var te *yaml.TypeError
		switch {
		case len(v.errs) > 0:
		case errors.As(err, &te):
			for _, m := range te.Errors {
				v.errs = append(v.errs, FieldError{File: name, Path: "(value)", Msg: m})
			}
		default:
			return nil, Errors{{File: name, Path: "(file)", Msg: err.Error()}}
		}
		return nil, v.result()
	}
	if err := v.complete(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Complete validates a topology built in Go by the rules Parse applies to a
// file, and fills in the same defaults: what Parse does after reading the
// YAML. On any problem it returns Errors with all of them (the paths as in
// the file, no lines; name stands for the file) and leaves t unchanged. A
// topology that is already complete (from Load, Parse or Complete) is
// checked again, as the file it marshals to: call Complete after changing
// one, and what changed is validated and completed too.
func Complete(name string, t *Topology) error {
	if t == nil {
		return Errors{{File: name, Path: "(topology)", Msg: "is nil; pass a *topology.Topology built in Go, or read one with topology.Load"}}
	}
	v := newValidator(name)
	if !t.Completed() {
		return v.complete(t)
	}
	text, err := yaml.Marshal(t)
	if err != nil {
		return err
	}
	var again Topology
	if err := yaml.Unmarshal(text, &again); err != nil {
		return err
	}
	if err := v.complete(&again); err != nil {
		return err
	}
	*t = again
	return nil
}

// Completed reports whether t was validated and completed (Parse, Load or
// Complete): what stacks.Build takes.
func (t *Topology) Completed() bool { return t.completed }

// complete validates t and, when it is valid, fills in the defaults.
func (v *validator) complete(t *Topology) error {
	v.validate(t)
	if len(v.errs) > 0 {
		return v.result()
	}
	t.applyTLSDefaults()
	t.applyDefaults()
	byLine(v.warns)
	t.warnings = v.warns
	t.completed = true
	return nil
}

// Warnings are the keys of a valid topology that its modes ignore and that
// are harmless to ignore (such as services[].upstream with proxy.mode
// none), and settings that work with an effect the file may not mean (a
// group's excludeAccounts in a StackSet other groups share), each with its
// file, line and why, in file order: a mode switch is one line. Keys whose
// meaning would change stay errors. obslink prints them on standard error
// and goes on.
func (t *Topology) Warnings() []FieldError { return t.warnings }

type validator struct {
	file     string
	lines    map[string]int  // field path -> line of its value
	reported map[string]bool // paths the shape walk already explained
	// aliases: field paths whose value the file gives through an alias
	// (*name, or a merge key <<: *name), so that a problem there names
	// both the anchor's line and the alias's.
	aliases map[string]alias
	errs    Errors
	warns   []FieldError
}

func newValidator(file string) *validator {
	return &validator{file: file, lines: map[string]int{}, reported: map[string]bool{}, aliases: map[string]alias{}}
}

// add records a problem at path; a field that is absent from the file gets
// the line of its nearest ancestor that is there.
func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, v.at(path, fmt.Sprintf(format, args...)))
}

// warn records a key that the topology's modes ignore, harmlessly: a
// warning that says why (Topology.Warnings), not an error.
func (v *validator) warn(path, format string, args ...any) {
	v.caution(path, "is ignored: "+format, args...)
}

// caution records a setting that works but has an effect the file may not
// mean: a warning that says the effect and the alternative.
func (v *validator) caution(path, format string, args ...any) {
	v.warns = append(v.warns, v.at(path, fmt.Sprintf(format, args...)))
}

// at places msg at path: its line, or that of its nearest ancestor in the
// file, and the alias its value came through.
func (v *validator) at(path, msg string) FieldError {
	line := 0
	for p := path; p != "" && line == 0; p = parentPath(p) {
		line = v.lines[p]
	}
	for p := path; p != ""; p = parentPath(p) {
		if a, ok := v.aliases[p]; ok {
			msg += fmt.Sprintf(" (the value comes from anchor &%s at line %d, through *%s at line %d)", a.name, a.anchorLine, a.name, a.line)
			break
		}
	}
	return FieldError{File: v.file, Line: line, Path: path, Msg: msg}
}

// alias is where a value given through an alias comes from.
type alias struct {
	name       string
	line       int // of the alias (*name)
	anchorLine int // of the anchored value (&name)
}

// parentPath is the path of the field or list that holds path's field.
func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i > 0 {
		return path[:i]
	}
	return ""
}

func (v *validator) result() error {
	byLine(v.errs)
	return v.errs
}

// byLine sorts problems in file order, those without a line last.
func byLine(es []FieldError) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Line, es[j].Line
		if a == 0 || b == 0 {
			return a != 0 && b == 0
		}
		return a < b
	})
}

var intTags = map[string]bool{"!!int": true, "!!float": true}

// walk records the line of every field, rejects unknown keys (listing the
// known ones), and rejects account ids written as numbers. It reads YAML as
// users write it: an alias (*name) stands for its anchor's value (&name),
// and a merge key (<<: *name, or a list of them) adds its mappings' keys
// that the mapping does not set itself; the lines are those of the text
// that gives each value.
func (v *validator) walk(n *yaml.Node, t reflect.Type, path string) {
	v.lines[path] = n.Line
	if n.Kind == yaml.AliasNode {
		v.aliases[path] = alias{name: n.Value, line: n.Line, anchorLine: n.Alias.Line}
		n = resolve(n)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			v.add(path, "%s is not a mapping; write it as keys %s", describe(n), strings.Join(yamlKeys(t), ", "))
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			fields[yamlKey(t.Field(i))] = t.Field(i).Type
		}
		for _, kv := range v.pairs(n, path) {
			k, val := kv.key, kv.value
			p := join(path, k.Value)
			if kv.via != nil {
				v.aliases[p] = *kv.via
			}
			ft, ok := fields[k.Value]
			if !ok && path == "" && strings.HasPrefix(k.Value, ExtensionPrefix) {
				continue // the user's own, such as a block of anchors
			}
			if !ok {
				v.lines[p] = k.Line
				v.add(p, "unknown key %q; known keys here: %s", k.Value, strings.Join(yamlKeys(t), ", "))
				continue
			}
			if num := resolve(val); k.Value == "account" && num.Kind == yaml.ScalarNode && intTags[num.Tag] {
				v.lines[p] = val.Line
				hint := fmt.Sprintf("quote it: %s: \"%s\"", k.Value, num.Value)
				if !reAccount.MatchString(num.Value) {
					hint = "quote all 12 digits, such as account: \"012345678901\""
				}
				if val != num {
					v.aliases[p] = alias{name: val.Value, line: val.Line, anchorLine: num.Line}
				}
				v.add(p, "account id %s is written as a number, which loses leading zeros; %s", num.Value, hint)
				v.reported[p] = true
			}
			v.walk(val, ft, p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			if !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
				v.add(path, "%s is not a mapping; write it as key: value lines", describe(n))
			}
			return
		}
		for _, kv := range v.pairs(n, path) {
			p := join(path, kv.key.Value)
			if kv.via != nil {
				v.aliases[p] = *kv.via
			}
			v.lines[p] = kv.key.Line
			v.walk(kv.value, t.Elem(), p)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
				v.add(path, "%s is not a list; write it as a YAML list (- item)", describe(n))
			}
			return
		}
		for i, item := range n.Content {
			v.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		switch {
		case n.Kind != yaml.ScalarNode:
			v.add(path, "%s where a single value belongs", describe(n))
		case (t.Kind() == reflect.Int || t.Kind() == reflect.Int64) && n.Tag != "!!int":
			v.add(path, "%q is not a whole number; write a number such as 80", n.Value)
		case t.Kind() == reflect.Float64 && n.Tag != "!!int" && n.Tag != "!!float":
			v.add(path, "%q is not a number; write a number such as 12.5", n.Value)
		case t.Kind() == reflect.Bool && n.Tag != "!!bool":
			v.add(path, "%q is not true or false", n.Value)
		}
	}
}

// resolve is the node an alias stands for, or n.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// ExtensionPrefix starts the top-level keys obslink ignores, which a file
// may use for its own purposes, such as a block of YAML anchors that other
// keys refer to (x-defaults: &defaults ...).
const ExtensionPrefix = "x-"

// pair is one key and value of a mapping, after merge keys; via is the
// alias a merged pair came through.
type pair struct {
	key, value *yaml.Node
	via        *alias
}

// pairs returns the keys of mapping n in file order, its own first and then
// those that merge keys add (the first merged mapping that sets a key
// wins), as the YAML decoder reads them. A merge key whose value is not a
// mapping, an alias of one, or a list of those is a problem at path.
func (v *validator) pairs(n *yaml.Node, path string) []pair {
	var own, merged []pair
	seen := map[string]bool{}
	var merge func(src *yaml.Node, via *alias, listed bool)
	merge = func(src *yaml.Node, via *alias, listed bool) {
		switch {
		case src.Kind == yaml.AliasNode && via == nil:
			merge(src.Alias, &alias{name: src.Value, line: src.Line, anchorLine: src.Alias.Line}, listed)
		case src.Kind == yaml.MappingNode:
			for _, kv := range v.pairs(src, path) {
				if kv.via == nil {
					kv.via = via
				}
				merged = append(merged, kv)
			}
		case src.Kind == yaml.SequenceNode && via == nil && !listed:
			for _, item := range src.Content {
				merge(item, nil, true)
			}
		default:
			v.lines[path] = src.Line
			v.add(path, "the merge key << takes a mapping, an alias of one (<<: *name) or a list of them (<<: [*a, *b]), not %s", describe(src))
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merge(val, nil, false)
			continue
		}
		own = append(own, pair{key: k, value: val})
		seen[k.Value] = true
	}
	out := own
	for _, kv := range merged {
		if !seen[kv.key.Value] {
			seen[kv.key.Value] = true
			out = append(out, kv)
		}
	}
	return out
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("value %q", n.Value)
	}
}

func yamlKey(f reflect.StructField) string {
	return strings.Split(f.Tag.Get("yaml"), ",")[0]
}

func yamlKeys(t reflect.Type) []string {
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = yamlKey(t.Field(i))
	}
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	reName     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
	reLabel    = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	reAccount  = regexp.MustCompile(`^[0-9]{12}$`)
	reOrg      = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	reRoot     = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	reOU       = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	reSSMName  = regexp.MustCompile(`^/[a-zA-Z0-9_.\-/]{1,1000}$`)
	reAMI      = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reTopicArn = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-iso|-iso-[a-z])?:sns:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	reRegion   = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]{1,2}$`)
	reVPC      = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reSubnet   = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reRTB      = regexp.MustCompile(`^rtb-([0-9a-f]{8}|[0-9a-f]{17})$`)
	reSG       = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// An ALB's ARN: region and account captured.
	reALBArn   = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:elasticloadbalancing:([a-z0-9-]+):([0-9]{12}):loadbalancer/app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$`)
	reInstance = regexp.MustCompile(`^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$`)
)
