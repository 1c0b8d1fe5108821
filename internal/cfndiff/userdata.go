package cfndiff

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// userDataDiff compares two user data values ({"Fn::Base64": script}) file
// by file, each marked Fetched when it comes from the files script: each heredoc the script writes to a file (base64 and gzip
// decoded where the script pipes it through base64 -d and gunzip), those of
// the files script it fetches from SSM parameters (fetched: the scripts of
// each side's template, by parameter path), and the script around them. ok
// is false when either side is not such a script.
func userDataDiff(a, b any, fetched [2]map[string]string) ([]FileDiff, bool) {
	oldScript, ok1 := script(a)
	newScript, ok2 := script(b)
	if !ok1 || !ok2 {
		return nil, false
	}
	oldScript, oldFetched := withFetched(oldScript, fetched[0])
	newScript, newFetched := withFetched(newScript, fetched[1])
	oldFiles, newFiles := files(oldScript), files(newScript)
	inParameters := union(files(oldFetched), files(newFetched))
	delete(inParameters, ScriptFile)
	var out []FileDiff
	for _, path := range sortedFileNames(oldFiles, newFiles) {
		o, inOld := oldFiles[path]
		n, inNew := newFiles[path]
		f := FileDiff{Path: path, Fetched: inParameters[path]}
		switch {
		case !inNew:
			f.Kind, f.Text = Removed, unified(path, o, "")
		case !inOld:
			f.Kind, f.Text = Added, unified(path, "", n)
		case o != n:
			f.Kind, f.Text = Modified, unified(path, o, n)
		default:
			continue
		}
		out = append(out, f)
	}
	return out, true
}

// ScriptFile names the user data script itself among its files.
const ScriptFile = "(user data script)"

// sortedFileNames lists the script first, then the files by path.
func sortedFileNames(a, b map[string]string) []string {
	names := sortedKeys(union(a, b))
	sort.SliceStable(names, func(i, j int) bool { return names[i] == ScriptFile && names[j] != ScriptFile })
	return names
}

// script returns the text of {"Fn::Base64": text}; a Fn::Join of strings
// and references renders each reference as Fn::Sub would: ${X}, ${X.Attr}.
func script(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	inner, ok := m["Fn::Base64"]
	if !ok {
		return "", false
	}
	return text(inner)
}

func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			var b strings.Builder
			for i, p := range parts {
				if i > 0 {
					b.WriteString(sep)
				}
				s, ok := text(p)
				if !ok {
					s = "${" + token(p) + "}"
				}
				b.WriteString(s)
			}
			return b.String(), true
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			return s, true
		}
		if r, ok := x["Ref"].(string); ok {
			return "${" + r + "}", true
		}
		if a, ok := x["Fn::GetAtt"].([]any); ok && len(a) == 2 {
			return fmt.Sprintf("${%v.%v}", a[0], a[1]), true
		}
	}
	return "", false
}

// token renders a function call without quotes, so that it can stand
// inside a JSON string: Fn::Select(1,Fn::Split(/,X)).
func token(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = token(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		if r, ok := x["Ref"].(string); ok && len(x) == 1 {
			return r
		}
		if a, ok := x["Fn::GetAtt"].([]any); ok && len(x) == 1 {
			return token(a[0]) + "." + token(a[1:])
		}
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+"("+token(x[k])+")")
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// reHeredoc matches a line that writes a heredoc to a file: cat >PATH
// <<'EOF', or base64 -d <<'EOF' | gunzip >PATH.
var (
	reHeredoc = regexp.MustCompile(`<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?`)
	reTarget  = regexp.MustCompile(`>\s*([^\s|;&<>]+)`)
)

// files splits a script into the files its heredocs write, and the script
// itself (ScriptFile) with each heredoc's body replaced by one line.
func files(s string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	var rest []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		rest = append(rest, line)
		h := reHeredoc.FindStringSubmatch(line)
		t := reTarget.FindStringSubmatch(reHeredoc.ReplaceAllString(line, ""))
		if h == nil || t == nil {
			continue
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != h[1] {
			end++
		}
		body := strings.Join(lines[i+1:end], "\n")
		if end > i+1 {
			body += "\n"
		}
		if strings.Contains(line, "base64 -d") {
			body = decode(body, strings.Contains(line, "gunzip"))
		}
		out[t[1]] = body
		rest = append(rest, "    <the content of "+t[1]+">")
		if end < len(lines) {
			rest = append(rest, lines[end])
		}
		i = end
	}
	out[ScriptFile] = strings.Join(rest, "\n")
	return out
}

// decode returns base64 text decoded (and gunzipped), or the text itself
// when it is not.
func decode(body string, gunzip bool) string {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return body
	}
	if !gunzip {
		return string(raw)
	}
	r, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return body
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return body
	}
	return string(plain)
}

// reFetch is the line with which a fleet's user data names the files script
// it fetches: the SSM parameter path of its chunks and its SHA-256.
var reFetch = regexp.MustCompile(`(?m)^# obslink-files: (\S+) ([0-9a-f]{64})$`)

// withFetched returns script with the files script it fetches from the
// template's parameters (fetched, by path) in place of the line that names
// it, and the path and hash, which change with every file, as placeholders:
// the files show as files, the script around them changes only when it does.
// It returns the files script too, "" when there is none.
func withFetched(script string, fetched map[string]string) (string, string) {
	m := reFetch.FindStringSubmatch(script)
	if m == nil {
		return script, ""
	}
	files, ok := fetched[m[1]]
	if !ok {
		return script, ""
	}
	script = strings.Replace(script, m[0], strings.TrimSuffix(files, "\n"), 1)
	return strings.NewReplacer(m[1], "<files path>", m[2], "<files hash>").Replace(script), files
}

// parameterType is the CloudFormation type of an SSM parameter.
const parameterType = "AWS::SSM::Parameter"

// fetchedFiles returns the files scripts a template's parameters hold, by
// the path a user data names (# obslink-files): the values of the
// parameters under it, in the order of their names, decoded and gunzipped.
func fetchedFiles(t Template) map[string]string {
	paths := map[string]bool{}
	for _, r := range t.Resources {
		if ud, ok := userDataOf(r); ok {
			for _, m := range reFetch.FindAllStringSubmatch(ud, -1) {
				paths[m[1]] = true
			}
		}
	}
	out := map[string]string{}
	for path := range paths {
		chunks := map[string]string{}
		for _, r := range t.Resources {
			name, _ := r.Properties["Name"].(string)
			if value, ok := r.Properties["Value"].(string); ok && r.Type == parameterType && strings.HasPrefix(name, path+"/") {
				chunks[name] = value
			}
		}
		var b strings.Builder
		for _, name := range sortedKeys(chunks) {
			b.WriteString(chunks[name])
		}
		out[path] = decode(b.String(), true)
	}
	return out
}

// isFetched reports whether r is a parameter of a files script in fetched.
func isFetched(r Resource, fetched map[string]string) bool {
	name, _ := r.Properties["Name"].(string)
	for path := range fetched {
		if r.Type == parameterType && strings.HasPrefix(name, path+"/") {
			return true
		}
	}
	return false
}

// userDataOf returns the user data script of a launch template.
func userDataOf(r Resource) (string, bool) {
	data, _ := r.Properties["LaunchTemplateData"].(map[string]any)
	if data == nil {
		return "", false
	}
	return script(data["UserData"])
}
