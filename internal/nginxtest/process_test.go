package nginxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// children returns the pids whose parent is pid, from /proc.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// TestRunStopsWorkers starts nginx with worker processes the way the tests
// and benchmarks do and checks that, once the test that started it ends, no
// worker is left: killing only the master orphans its workers.
func TestRunStopsWorkers(t *testing.T) {
	bin := Require(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	port := FreePort(t, "127.0.0.1")
	cfg := "worker_processes 2;\npid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log " + filepath.Join(dir, "error.log") + ";\n" +
		"events {}\nhttp { access_log off; server { listen 127.0.0.1:" + strconv.Itoa(port) + "; return 204; } }\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var master int
	var workers []int
	t.Run("run", func(t *testing.T) {
		cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
		Run(t, cmd)
		master = cmd.Process.Pid
		for i := 0; i < 100 && len(workers) < 2; i++ {
			time.Sleep(20 * time.Millisecond)
			workers = children(master)
		}
		if len(workers) < 2 {
			t.Fatalf("nginx %d started %d workers, want 2", master, len(workers))
		}
	})
	time.Sleep(100 * time.Millisecond)
	for _, pid := range append([]int{master}, workers...) {
		if alive(pid) {
			t.Errorf("process %d of nginx (master %d) outlived its test", pid, master)
			_ = syscallKill(pid)
		}
	}
}
