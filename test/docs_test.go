package test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// libraryDirs are the packages others import (pkg.go.dev conventions apply).
var libraryDirs = []string{"../topology", "../constructs", "../stacks", "../app", "../diagram", "../assets"}

// TestExportedNamesAreDocumented: every exported type, function, method,
// constant and variable has a doc comment that starts with its name (or, in
// a const/var group, the group has one).
func TestExportedNamesAreDocumented(t *testing.T) {
	var missing []string
	forEachFile(t, func(path string, f *ast.File) {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && (d.Recv == nil || receiverExported(d.Recv)) {
					if d.Doc == nil || !strings.HasPrefix(d.Doc.Text(), d.Name.Name+" ") {
						missing = append(missing, path+": func "+d.Name.Name)
					}
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						doc := s.Doc
						if doc == nil {
							doc = d.Doc
						}
						if s.Name.IsExported() && (doc == nil || !strings.HasPrefix(doc.Text(), s.Name.Name+" ")) {
							missing = append(missing, path+": type "+s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
								missing = append(missing, path+": "+n.Name)
							}
						}
					}
				}
			}
		}
	})
	assert.Empty(t, missing, "exported names without a doc comment starting with the name")
}

// TestPropsStateDefaults: every field of a construct's Props says whether it
// is required or what happens when it is left out (aws-cdk design guidelines).
func TestPropsStateDefaults(t *testing.T) {
	var missing []string
	forEachFile(t, func(path string, f *ast.File) {
		if !strings.Contains(path, "constructs") {
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !strings.HasSuffix(ts.Name.Name, "Props") {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				text := ""
				if fld.Doc != nil {
					text = fld.Doc.Text()
				}
				if len(fld.Names) == 0 { // embedded
					continue
				}
				if !strings.Contains(text, "Default") && !strings.Contains(text, "Required") {
					missing = append(missing, path+": "+ts.Name.Name+"."+fld.Names[0].Name)
				}
			}
			return true
		})
	})
	assert.Empty(t, missing, "props fields that state neither Required nor Default")
}

func receiverExported(r *ast.FieldList) bool {
	if len(r.List) == 0 {
		return false
	}
	typ := r.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

func forEachFile(t *testing.T, fn func(path string, f *ast.File)) {
	fset := token.NewFileSet()
	for _, dir := range libraryDirs {
		require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			fn(p, f)
			return nil
		}))
	}
}

var reCdkDiff = regexp.MustCompile(`cdk\s+diff\s+-`)

// TestPullRequestDiffIsReadOnly: the pull-request workflow runs the branch's
// code, so every cdk diff in it compares templates through the lookup role
// (--method=template; the other methods use the deploy role), and it never
// deploys.
func TestPullRequestDiffIsReadOnly(t *testing.T) {
	b, err := os.ReadFile("../.github/workflows/cdk-diff.yml")
	require.NoError(t, err)
	wf := string(b)
	require.Contains(t, wf, "pull_request")
	diffs := 0
	for _, line := range strings.Split(wf, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if reCdkDiff.MatchString(line) { // an invocation, not a step name
			diffs++
			assert.Contains(t, line, "--method=template", "a diff that may use the deploy role: %s", line)
		}
		assert.NotContains(t, line, "cdk deploy", "a pull-request workflow deploys: %s", line)
		assert.NotContains(t, line, "--change-set", line)
	}
	assert.NotZero(t, diffs)
}
