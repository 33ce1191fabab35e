package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// dirPrefix names the clusters' directories under os.TempDir, so that a
// later run can find and remove those a crashed run left behind.
const dirPrefix = "paymeter-pgtest-"

// cluster is one running server: its directory, port and process.
type cluster struct {
	dir   string // owns data/, the unix socket, server.log
	port  int
	proc  *os.Process
	done  chan struct{} // closed when the server exits
	admin *pgxpool.Pool
}

func (c *cluster) url(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/" + db}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// binDir returns the directory of initdb and postgres: the highest version
// under /usr/lib/postgresql (Debian's layout), else initdb's on PATH.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) > pgVersion(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNotInstalled
}

// pgVersion is the major version in /usr/lib/postgresql/<v>/bin/initdb.
func pgVersion(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

// start makes and starts a cluster, retrying when the free port it picked
// is taken before the server binds it.
func start() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	sweepStale()
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := initdb(bin, dir, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		c, err := serve(bin, dir, cred)
		if err == nil {
			return c, nil
		}
		if attempt == 2 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// serverUser returns the credentials to run initdb and postgres with: nil
// (ourselves) unless we are root, which both refuse; then the postgres
// system user that Debian's package creates.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: need the postgres system user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func command(bin, name string, cred *syscall.Credential, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = dir
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// initdb makes the cluster: trust for local and loopback connections (no
// password in tests), and -N, since the cluster is thrown away if the
// machine dies while it is made. The server itself keeps fsync on.
func initdb(bin, dir string, cred *syscall.Credential) error {
	cmd := command(bin, "initdb", cred, dir, "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C", "-N", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, tail(out, 20))
	}
	return nil
}

// serve starts the server on a free loopback port and waits until it
// answers a query.
func serve(bin, dir string, cred *syscall.Credential) (*cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := command(bin, "postgres", cred, dir, "-D", filepath.Join(dir, "data"), "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "shared_buffers=16MB", "-c", "max_connections=300", "-c", "fsync=on",
		"-c", "synchronous_commit=on", "-c", "logging_collector=off", "-c", "huge_pages=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	c := &cluster{dir: dir, port: port, done: make(chan struct{})}
	if err := startLocked(cmd, c.done); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c.proc = cmd.Process
	if err := c.waitReady(30 * time.Second); err != nil {
		c.kill()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%w; server log:\n%s", err, tail(log, 20))
	}
	admin, err := pgxpool.New(context.Background(), c.url("postgres")+"&pool_max_conns=4")
	if err != nil {
		c.kill()
		return nil, err
	}
	c.admin = admin
	return c, nil
}

// startLocked starts cmd from a goroutine locked to its OS thread for the
// life of the process: Pdeathsig fires when the thread that started the
// child ends, not the process, and the runtime may end idle threads.
func startLocked(cmd *exec.Cmd, done chan struct{}) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
		}
		close(done)
	}()
	return <-started
}

func (c *cluster) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return errors.New("postgres exited while starting")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = ping(ctx, c.url("postgres"))
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after %s: %v", limit, last)
}

// stop asks for a fast shutdown (SIGINT: end sessions, checkpoint), kills
// the server if it takes too long, and removes the directory.
func (c *cluster) stop() error {
	if c.admin != nil {
		c.admin.Close()
	}
	c.proc.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		c.kill()
	}
	return os.RemoveAll(c.dir)
}

func (c *cluster) kill() {
	c.proc.Kill()
	<-c.done
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// sweepStale removes the directories of earlier runs whose test binary and
// server are both gone (a binary killed before Main could clean up).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		if alive(readPID(filepath.Join(d, "owner.pid"))) || alive(readPID(filepath.Join(d, "data", "postmaster.pid"))) {
			continue
		}
		os.RemoveAll(d)
	}
}

// readPID reads the number on the first line of a pid file; 0 if none.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	n, _ := strconv.Atoi(strings.TrimSpace(line))
	return n
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
