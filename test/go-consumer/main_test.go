package consumer_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// live is the server the tests talk to, with the keys of the helper's two tenants.
var live struct {
	URL           string `json:"url"`
	AdminKey      string `json:"adminKey"`
	ReadKey       string `json:"readKey"`
	OtherAdminKey string `json:"otherAdminKey"`
}

// TestMain uses the server named by TDB_TEST_URL and TDB_TEST_KEY (TDB_TEST_READ_KEY adds a
// read-only key) or starts one with real PostgreSQL through the repo's Node helper
// test/helpers/serve-for-tests.ts, which prints one JSON line, and stops it afterwards.
func TestMain(m *testing.M) {
	if url, key := os.Getenv("TDB_TEST_URL"), os.Getenv("TDB_TEST_KEY"); url != "" && key != "" {
		live.URL, live.AdminKey, live.ReadKey = url, key, os.Getenv("TDB_TEST_READ_KEY")
		os.Exit(m.Run())
	}
	stop, err := serve()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tdb tests: cannot start a live server: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func serve() (stop func(), err error) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		return nil, err
	}
	tsx := filepath.Join(repo, "node_modules", ".bin", "tsx")
	if _, err := os.Stat(tsx); err != nil {
		return nil, fmt.Errorf("%s is missing: run `npm install` (or scripts/setup.sh) first", tsx)
	}
	cmd := exec.Command(tsx, "test/helpers/serve-for-tests.ts")
	cmd.Dir = repo
	cmd.Stderr = os.Stderr
	// The helper also exits when its stdin closes, i.e. when this process dies.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = stdin.Close()
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		if err := json.Unmarshal([]byte(s), &live); err != nil || live.URL == "" {
			stop()
			return nil, fmt.Errorf("serve-for-tests printed %q instead of its address", s)
		}
		return stop, nil
	case <-time.After(180 * time.Second):
		stop()
		return nil, fmt.Errorf("serve-for-tests printed nothing in 180s")
	}
}
