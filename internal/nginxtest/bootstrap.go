package nginxtest

import (
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/obslink/obslink/constructs/proxyfleet"
)

// FetchFiles runs the user data's fetch of its files script, as on an
// instance, with an aws command that answers get-parameters-by-path with
// those of params one level below the --path it is given (in a shuffled
// order, as pages may come; an empty list: an empty answer, as when the
// parameters are gone; nil: the command fails as without the SSM endpoint)
// and a sleep that returns at once; /run is a directory of tb's. It returns the script fetched, or the fetch's error
// with its output.
func FetchFiles(tb testing.TB, userData string, params []proxyfleet.Parameter) (string, error) {
	tb.Helper()
	start := strings.Index(userData, "fetch_files() {")
	call := "fetch_files /run/obslink-files.sh\n"
	end := strings.Index(userData, call)
	if start < 0 || end < start {
		tb.Fatalf("the user data does not fetch its files:\n%s", userData)
	}
	dir := tb.TempDir()
	run, bin := filepath.Join(dir, "run"), filepath.Join(dir, "bin")
	var answer strings.Builder
	for _, i := range rand.Perm(len(params)) {
		fmt.Fprintf(&answer, "%s\t%s\n", params[i].Name, params[i].Value)
	}
	// As SSM answers a non-recursive read: the parameters one level below
	// --path, nothing (exit 0) when there are none.
	stub := "#!/bin/bash\n" +
		"[ \"$1 $2\" = 'ssm get-parameters-by-path' ] || { echo \"unexpected: $*\" >&2; exit 2; }\n" +
		"[ -e " + dir + "/unreachable ] && { echo 'Could not connect to the endpoint URL' >&2; exit 255; }\n" +
		"path=\n" +
		"while [ $# -gt 0 ]; do case $1 in --path) path=$2; shift;; --recursive) echo 'unexpected --recursive' >&2; exit 2;; esac; shift; done\n" +
		"awk -F '\\t' -v p=\"$path/\" 'index($1, p) == 1 && index(substr($1, length(p) + 1), \"/\") == 0' " + dir + "/answer\n"
	if params == nil {
		if err := os.WriteFile(filepath.Join(dir, "unreachable"), nil, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for _, f := range []struct {
		path, text string
		mode       os.FileMode
	}{{filepath.Join(dir, "answer"), answer.String(), 0o644}, {filepath.Join(bin, "aws"), stub, 0o755}, {filepath.Join(bin, "sleep"), "#!/bin/sh\n", 0o755}} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.text), f.mode); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.MkdirAll(run, 0o755); err != nil {
		tb.Fatal(err)
	}
	script := "set -euo pipefail\n" + strings.ReplaceAll(userData[start:end]+call, "/run/", run+"/")
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(run, "obslink-files.sh"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b), nil
}

// File is what the files script wrote at a path.
type File struct {
	Text string
	Mode fs.FileMode
}

// reAbsolute is an absolute path the files script writes to: after a
// space, a redirection or a quote, outside the heredocs.
var reAbsolute = regexp.MustCompile(`([ >']|^)(/(?:etc|usr|opt|var|run)/)`)

// RunFiles runs a files script with every path it writes moved under a
// directory of tb's, and returns what it wrote, by absolute path.
func RunFiles(tb testing.TB, script string) map[string]File {
	tb.Helper()
	root := tb.TempDir()
	// The directories the packages would have made.
	for _, d := range []string{"/etc/nginx", "/etc/logrotate.d", "/etc/systemd/system", "/usr/local/bin", "/opt/aws/amazon-cloudwatch-agent/etc"} {
		if err := os.MkdirAll(root+d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	var b strings.Builder
	inHeredoc := false
	for _, l := range strings.SplitAfter(script, "\n") {
		if inHeredoc {
			inHeredoc = strings.TrimSpace(l) != "OBSLINK_EOF"
		} else {
			inHeredoc = strings.Contains(l, "<<'OBSLINK_EOF'")
			l = reAbsolute.ReplaceAllString(l, "${1}"+root+"${2}")
		}
		b.WriteString(l)
	}
	if out, err := exec.Command("bash", "-c", b.String()).CombinedOutput(); err != nil {
		tb.Fatalf("the files script: %v\n%s", err, out)
	}
	files := map[string]File{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		text, err := os.ReadFile(p)
		info, _ := d.Info()
		files[strings.TrimPrefix(p, root)] = File{string(text), info.Mode().Perm()}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}
