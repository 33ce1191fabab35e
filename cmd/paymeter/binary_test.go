package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// built is the paymeter binary the tests that run it as a user would build
// once per test process (removed by TestMain).
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// paymeterBinary builds this command with `go build` and returns its path.
func paymeterBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "paymeter-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "paymeter")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = errors.New(err.Error() + ": " + string(out))
		}
	})
	if built.err != nil {
		t.Fatalf("go build: %v", built.err)
	}
	return built.path
}

func removeBuiltBinary() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// ranCommand is what a run of the binary printed, and its exit status.
type ranCommand struct {
	stdout, stderr string
	code           int
}

// runBinary runs the binary with args for at most a minute.
func runBinary(t *testing.T, bin string, args ...string) ranCommand {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := ranCommand{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return r
}
