package test

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// repoRoot is the repository, seen from this package.
const repoRoot = ".."

// skippedDirs hold Markdown that is not the project's own pages.
var skippedDirs = map[string]bool{".git": true, ".toolchain": true, "vendor": true, "node_modules": true, "testdata": true, "cdk.out": true}

// outsidePaths are paths of the machine a page must never name: the
// project speaks for itself.
var outsidePaths = regexp.MustCompile(`\.\./shared|(^|[^\w.~/-])/work(/|\b)`)

// markdownPage is one parsed *.md file of the repository.
type markdownPage struct {
	path    string // relative to the repository, with slashes
	source  []byte
	anchors map[string]bool
	links   []markdownLink
}

// markdownLink is a link or an image on a page.
type markdownLink struct {
	text, dest string
	line       int
}

// markdownPages parses every *.md file of the repository.
func markdownPages(t *testing.T) map[string]*markdownPage {
	t.Helper()
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	pages := map[string]*markdownPage{}
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != repoRoot && skippedDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".md") {
			return nil
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pages[filepath.ToSlash(rel)] = parsePage(md, filepath.ToSlash(rel), src)
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, pages, "README.md")
	return pages
}

// parsePage collects a page's heading anchors, as GitHub makes them, and
// its links and images.
func parsePage(md goldmark.Markdown, path string, src []byte) *markdownPage {
	p := &markdownPage{path: path, source: src, anchors: map[string]bool{}}
	seen := map[string]int{}
	doc := md.Parser().Parse(text.NewReader(src))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			slug := githubSlug(plainText(n, src))
			if k := seen[slug]; k > 0 {
				p.anchors[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				p.anchors[slug] = true
			}
			seen[slug]++
		case *ast.Link:
			p.links = append(p.links, markdownLink{plainText(n, src), string(n.Destination), lineOf(n, src)})
		case *ast.Image:
			p.links = append(p.links, markdownLink{plainText(n, src), string(n.Destination), lineOf(n, src)})
		}
		return ast.WalkContinue, nil
	})
	return p
}

// plainText is the text of n's inline descendants, code spans included.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// lineOf is the line of n's first text on the page (else of its block),
// for messages.
func lineOf(n ast.Node, src []byte) int {
	for c := n.FirstChild(); c != nil; c = c.FirstChild() {
		if t, ok := c.(*ast.Text); ok {
			return strings.Count(string(src[:t.Segment.Start]), "\n") + 1
		}
	}
	for c := n; c != nil; c = c.Parent() {
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			return strings.Count(string(src[:c.Lines().At(0).Start]), "\n") + 1
		}
	}
	return 0
}

// githubSlug is the anchor GitHub gives a heading: lower case, every
// character but letters, digits, '_', '-' and spaces dropped, spaces to
// '-'. A page's second heading of the same slug gets -1, the third -2.
func githubSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// linkProblems checks every relative link and image of every page: its
// file exists in the repository (exists says, for a path relative to it), its anchor is a heading of the page it
// names, and it names no path outside the repository; and no page's text
// names a path of the machine outside it.
func linkProblems(pages map[string]*markdownPage, exists func(path string) bool) []string {
	var problems []string
	for _, p := range pages {
		for i, line := range strings.Split(string(p.source), "\n") {
			if outsidePaths.MatchString(line) {
				problems = append(problems, fmt.Sprintf("%s:%d: names a path outside the repository: %s", p.path, i+1, strings.TrimSpace(line)))
			}
		}
		for _, l := range p.links {
			where := fmt.Sprintf("%s:%d: [%s](%s)", p.path, l.line, l.text, l.dest)
			u, err := url.Parse(l.dest)
			switch {
			case err != nil:
				problems = append(problems, where+": not a URL: "+err.Error())
				continue
			case u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "mailto":
				continue
			case u.Scheme != "" || u.Host != "":
				problems = append(problems, where+": a link to a file outside the repository; link a file of the repository by its relative path")
				continue
			case strings.HasPrefix(u.Path, "/"):
				problems = append(problems, where+": an absolute path; link a file of the repository by its relative path")
				continue
			}
			target := p.path
			if u.Path != "" {
				target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(p.path), u.Path)))
				if target == ".." || strings.HasPrefix(target, "../") {
					problems = append(problems, where+": leaves the repository")
					continue
				}
				if !exists(target) {
					problems = append(problems, where+": no file "+target+" in the repository")
					continue
				}
			}
			if u.Fragment == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			if to, ok := pages[target]; !ok || !to.anchors[u.Fragment] {
				problems = append(problems, fmt.Sprintf("%s: no heading #%s on %s", where, u.Fragment, target))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// TestMarkdownLinks: every relative link and image of every page of the
// repository resolves to a file of it, every #anchor to a heading, and no
// page names a path outside the repository.
func TestMarkdownLinks(t *testing.T) {
	pages := markdownPages(t)
	exists := func(path string) bool {
		_, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(path)))
		return err == nil
	}
	problems := linkProblems(pages, exists)
	assert.Empty(t, problems, "broken links, anchors or outside paths in the repository's Markdown:\n%s", strings.Join(problems, "\n"))
}

// TestReadmeIsAMap: the README stays short, and every page under docs/ is
// one click from it.
func TestReadmeIsAMap(t *testing.T) {
	pages := markdownPages(t)
	readme := pages["README.md"]
	lines := strings.Count(string(readme.source), "\n")
	assert.Less(t, lines, 300, "README.md has %d lines: move the details to a page under docs/ and link it", lines)
	linked := map[string]string{}
	for _, l := range readme.links {
		if u, err := url.Parse(l.dest); err == nil && u.Scheme == "" {
			linked[filepath.ToSlash(filepath.Clean(u.Path))] = l.text
		}
	}
	var docs []string
	for path := range pages {
		if strings.HasPrefix(path, "docs/") {
			docs = append(docs, path)
		}
	}
	require.NotEmpty(t, docs)
	for _, d := range docs {
		assert.Contains(t, linked, d, "README.md does not link %s", d)
	}
	// The alarms' descriptions say "See README, Monitoring".
	assert.Equal(t, "Monitoring", linked["docs/monitoring.md"], "README.md links docs/monitoring.md as Monitoring")
}

func TestGithubSlug(t *testing.T) {
	tests := []struct{ give, want string }{
		{"Quick start", "quick-start"},
		{"`cdk diff` in pull requests", "cdk-diff-in-pull-requests"},
		{"Proxyless (`proxy.mode: none`)", "proxyless-proxymode-none"},
		{"Prices: the shipped file, `obslink prices refresh`, `--prices`", "prices-the-shipped-file-obslink-prices-refresh---prices"},
		{"Consumers as StackSets: 1,000 accounts", "consumers-as-stacksets-1000-accounts"},
		{"Change the proxies' instance type", "change-the-proxies-instance-type"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, githubSlug(tt.give), tt.give)
	}
}

func TestLinkProblemsFindsEach(t *testing.T) {
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	pages := map[string]*markdownPage{}
	for path, src := range map[string]string{
		"README.md": "# Title\n\n## Same\n\n## Same\n\n[ok](#same-1) [ok](docs/a.md#a-page) [gone](docs/missing.md) " +
			"[no heading](#nowhere) [no heading there](docs/a.md#nowhere) [out](../../etc/passwd) [abs](/tmp/x.md) ![img](docs/none.png)\n",
		// The outside paths are written in pieces, so that the repository's
		// own text names none.
		"docs/a.md": "# A page\n\nSee ../" + "shared/notes and /" + "work/main for more. [web](https://example.com/" + "work/x)\n",
	} {
		pages[path] = parsePage(md, path, []byte(src))
	}
	got := strings.Join(linkProblems(pages, func(path string) bool { return pages[path] != nil }), "\n")
	for _, want := range []string{
		"README.md:7: [gone](docs/missing.md): no file docs/missing.md",
		"README.md:7: [no heading](#nowhere): no heading #nowhere on README.md",
		"README.md:7: [no heading there](docs/a.md#nowhere): no heading #nowhere on docs/a.md",
		"[out](../../etc/passwd): leaves the repository",
		"[abs](/tmp/x.md): an absolute path",
		"[img](docs/none.png): no file docs/none.png",
		"docs/a.md:3: names a path outside the repository",
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "#same-1", "the second heading Same is #same-1")
	assert.NotContains(t, got, "#a-page")
	assert.Equal(t, 7, strings.Count(got, "\n")+1, "one problem each, and none for the web link:\n%s", got)
}

// TestEveryExampleIsListed: the examples section of docs/topology-file.md
// names every file in examples/, so a new example is found from the docs.
func TestEveryExampleIsListed(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(repoRoot, "docs", "topology-file.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(page), "\n## Examples\n")
	require.True(t, ok, "docs/topology-file.md has no Examples section")
	section, _, _ = strings.Cut(section, "\n## ")
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		assert.Contains(t, section, "`"+filepath.Base(f)+"`", "docs/topology-file.md, Examples, does not name examples/%s", filepath.Base(f))
	}
}
