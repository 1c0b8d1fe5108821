package cfndiff

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxMarkdown is how long WriteMarkdown's output may grow before it leaves
// out stacks' details: a GitHub comment holds 65,536 characters.
const MaxMarkdown = 60000

// summary is the report's first line after the sides.
func (r Report) summary() string {
	if !r.Changed() {
		return "no changes"
	}
	stacks := map[Kind]int{}
	res := map[Kind]int{}
	for _, s := range r.Stacks {
		stacks[s.Kind]++
		if s.Kind == Modified {
			for k, n := range s.Template.Counts() {
				res[k] += n
			}
		}
	}
	var parts []string
	for _, p := range []struct {
		kind Kind
		verb string
	}{{Added, "to add"}, {Modified, "to modify"}, {Removed, "to remove"}} {
		if stacks[p.kind] > 0 {
			parts = append(parts, fmt.Sprintf("%d stack(s) %s", stacks[p.kind], p.verb))
		}
	}
	line := strings.Join(parts, ", ")
	if stacks[Modified] > 0 {
		line += "; in them, " + counts(res)
	}
	return line
}

// counts says how many resources are added, modified, replaced, removed.
func counts(n map[Kind]int) string {
	var parts []string
	for _, p := range []struct {
		kind Kind
		verb string
	}{{Added, "to add"}, {Modified, "to modify"}, {Replaced, "to replace"}, {Removed, "to remove"}} {
		if n[p.kind] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[p.kind], p.verb))
		}
	}
	if len(parts) == 0 {
		return "outputs or parameters only"
	}
	return "resources: " + strings.Join(parts, ", ")
}

// WriteText writes the report for a terminal or a log.
func (r Report) WriteText(w io.Writer, old, new string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "obslink diff: %s -> %s: %s\n", old, new, r.summary())
	if len(r.Impacts) > 0 {
		b.WriteString("\nWhat it means for running traffic:\n")
		for _, g := range groupImpacts(r.Impacts) {
			fmt.Fprintf(&b, "  - %s: %s\n", g.where, g.text)
		}
	}
	env := ""
	for _, s := range r.Stacks {
		if e := "account " + s.Account + ", region " + s.Region; e != env {
			env = e
			fmt.Fprintf(&b, "\n%s\n", env)
		}
		fmt.Fprintf(&b, "  stack %s: %s\n", s.Name, stackLine(s))
		render(&b, stackBody(s), 2, false)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the report as a pull-request comment: the summary,
// what it means for traffic, a table of the stacks, and each stack's
// resources in a collapsed diff block.
func (r Report) WriteMarkdown(w io.Writer, old, new string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### obslink diff: `%s` → `%s`\n\n", old, new)
	if !r.Changed() {
		b.WriteString("No changes.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%s\n", r.summary())
	if len(r.Impacts) > 0 {
		b.WriteString("\n**What it means for running traffic**\n\n")
		for _, g := range groupImpacts(r.Impacts) {
			fmt.Fprintf(&b, "- `%s`: %s\n", g.where, g.text)
		}
	}
	b.WriteString("\n| account | region | stack | change | add | modify | replace | remove |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Stacks {
		n := s.Template.Counts()
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %d | %d | %d | %d |\n", s.Account, s.Region, s.Name, s.Kind, n[Added], n[Modified], n[Replaced], n[Removed])
	}
	for i, s := range r.Stacks {
		var d strings.Builder
		fmt.Fprintf(&d, "\n<details><summary><code>%s</code> (%s, %s): %s</summary>\n\n````diff\n", s.Name, s.Account, s.Region, stackLine(s))
		render(&d, stackBody(s), 0, true)
		d.WriteString("````\n\n</details>\n")
		if b.Len()+d.Len() > MaxMarkdown {
			fmt.Fprintf(&b, "\nThe details of %d more stack(s) are left out (a comment holds 65,536 characters): run obslink diff for them.\n", len(r.Stacks)-i)
			break
		}
		b.WriteString(d.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type impactGroup struct{ where, text string }

// groupImpacts puts the same impact in several stacks (an instance refresh
// in every provider) on one line: stacks, then the resource.
func groupImpacts(is []Impact) []impactGroup {
	var order []string
	stacks := map[string][]string{}
	for _, i := range is {
		k := i.Resource + "\x00" + i.Text
		if stacks[k] == nil {
			order = append(order, k)
		}
		stacks[k] = append(stacks[k], i.Stack)
	}
	out := make([]impactGroup, 0, len(order))
	for _, k := range order {
		res, text, _ := strings.Cut(k, "\x00")
		where := strings.Join(stacks[k], ", ")
		if res != "" {
			where += " " + res
		}
		out = append(out, impactGroup{where, text})
	}
	return out
}

func stackLine(s StackDiff) string {
	switch s.Kind {
	case Added:
		return fmt.Sprintf("added, %d resource(s)", len(s.Template.Resources))
	case Removed:
		return fmt.Sprintf("removed (no longer in the topology), %d resource(s)", len(s.Template.Resources))
	}
	return counts(s.Template.Counts())
}

// line is one line of a stack's changes: depth levels of indentation, or
// raw, a unified diff's line, which a Markdown diff block colors only at
// the start of the line.
type line struct {
	depth int
	text  string
	raw   bool
}

// render indents lines for text (every line by its depth) or for a
// Markdown diff block (raw lines not at all).
func render(b *strings.Builder, lines []line, base int, markdown bool) {
	for _, l := range lines {
		if !(markdown && l.raw) {
			b.WriteString(strings.Repeat("  ", base+l.depth))
		}
		b.WriteString(l.text + "\n")
	}
}

// stackBody is a stack's changes: resources of an added or removed stack
// by name only, a modified stack's with their changes.
func stackBody(s StackDiff) []line {
	if s.Kind != Modified {
		var out []line
		for _, r := range s.Template.Resources {
			out = append(out, line{text: resourceHead(r)})
		}
		return out
	}
	return templateBody(s.Template, 0)
}

func templateBody(d TemplateDiff, depth int) []line {
	var out []line
	for _, r := range d.Resources {
		out = append(out, line{depth: depth, text: resourceHead(r)})
		for _, c := range r.Changes {
			out = append(out, changeLines(c, depth+2)...)
		}
		for _, f := range r.Files {
			out = append(out, line{depth: depth + 2, text: fmt.Sprintf("%s: %s (%s)", f.Place(), f.Path, f.Kind)})
			out = append(out, diffLines(f.Text, depth+3)...)
		}
		if r.Template != nil {
			out = append(out, line{depth: depth + 2, text: "the template of every stack instance:"})
			out = append(out, templateBody(*r.Template, depth+3)...)
		}
	}
	for _, c := range append(append([]Change(nil), d.Parameters...), d.Outputs...) {
		out = append(out, changeLines(c, depth)...)
	}
	return out
}

// symbols mark a resource line as a plan does.
var symbols = map[Kind]string{Added: "+", Modified: "~", Replaced: "-/+", Removed: "-"}

func resourceHead(r ResourceDiff) string {
	text := symbols[r.Kind] + " " + r.Type + " " + r.ID
	if r.Label != "" {
		text += " (" + r.Label + ")"
	}
	switch {
	case r.Kind == Replaced && r.Conditional:
		text += ": may be replaced, " + strings.Join(r.Why, "; ")
	case r.Kind == Replaced:
		text += ": replaced, " + strings.Join(r.Why, "; ")
	case len(r.Why) > 0:
		text += ": " + strings.Join(r.Why, "; ")
	}
	return text
}

// changeLines renders one change: path: old -> new, or a unified diff.
func changeLines(c Change, depth int) []line {
	path := strings.TrimPrefix(c.Path, "Properties.")
	one := func(s string) []line { return []line{{depth: depth, text: s}} }
	switch {
	case c.Text != "":
		return append(one(path+":"), diffLines(c.Text, depth+1)...)
	case strings.HasSuffix(path, "[]") && c.New == nil:
		return one(strings.TrimSuffix(path, "[]") + ": element removed: " + compact(c.Old))
	case strings.HasSuffix(path, "[]"):
		return one(strings.TrimSuffix(path, "[]") + ": element added: " + compact(c.New))
	case c.Old == nil:
		return one(path + ": (none) -> " + compact(c.New))
	case c.New == nil:
		return one(path + ": " + compact(c.Old) + " -> (none)")
	}
	a, b := compact(c.Old), compact(c.New)
	if len(a)+len(b) > 160 {
		a, b = elide(a, b)
		return []line{{depth: depth, text: path + ":"}, {depth: depth + 1, text: "old " + a}, {depth: depth + 1, text: "new " + b}}
	}
	return one(path + ": " + a + " -> " + b)
}

// elide shortens two long values to where they differ, with some context.
func elide(a, b string) (string, string) {
	const context = 40
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	cut := func(x string) string {
		from, to := max(p-context, 0), min(len(x)-s+context, len(x))
		for from > 0 && !utf8.RuneStart(x[from]) {
			from--
		}
		for to < len(x) && !utf8.RuneStart(x[to]) {
			to++
		}
		out := x[from:to]
		if from > 0 {
			out = "…" + out
		}
		if to < len(x) {
			out += "…"
		}
		return out
	}
	return cut(a), cut(b)
}

// diffLines are a unified diff's lines.
func diffLines(text string, depth int) []line {
	var out []line
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		out = append(out, line{depth: depth, text: l, raw: true})
	}
	return out
}
