// Package testenv gives tests the real servers they run against: the
// Radicale, Redis and Redis Cluster that `make test` started (their URLs
// in ROOMCAL_TEST_RADICALE_URL, ROOMCAL_TEST_REDIS_URL and
// ROOMCAL_TEST_REDIS_CLUSTER_URL), or private instances a test starts and
// stops itself (to kill a server mid-test or flush one without disturbing
// other packages; StartRedisCluster for a cluster whose nodes a test
// kills).
//
// A test that needs a server and cannot have it fails, saying what to
// install or run: tests never pass because a server is missing.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	radicaleBin = "/usr/bin/radicale"
	redisBin    = "/usr/bin/redis-server"
)

// RandomID returns a short random identifier, to keep tests that share a
// server apart.
func RandomID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Home is a calendar home on a CalDAV server and the credentials of its
// owner. Radicale (started with --auth-type=none) accepts any password but
// lets a user write only below /USER/.
type Home struct {
	URL      string // ends in "/"
	User     string
	Password string
}

// RadicaleHome returns a fresh, empty calendar home (a new user) on the
// Radicale started by `make test`.
func RadicaleHome(t testing.TB) Home {
	t.Helper()
	base := os.Getenv("ROOMCAL_TEST_RADICALE_URL")
	if base == "" {
		t.Fatal("ROOMCAL_TEST_RADICALE_URL is not set: run the tests with `make test`, which starts Radicale (apt-get install radicale)")
	}
	return newHome(base)
}

// Home returns a fresh, empty calendar home on this (Radicale) server.
func (s *Server) Home() Home { return newHome(s.URL()) }

func newHome(base string) Home {
	user := "t-" + RandomID()
	return Home{URL: strings.TrimRight(base, "/") + "/" + user + "/", User: user, Password: "x"}
}

// RedisURL returns the URL of the Redis started by `make test`. Tests on
// it must keep to keys of their own (random room and event ids) and never
// flush it; a test that flushes starts its own with StartRedis.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("ROOMCAL_TEST_REDIS_URL")
	if u == "" {
		t.Fatal("ROOMCAL_TEST_REDIS_URL is not set: run the tests with `make test`, which starts Redis (apt-get install redis-server)")
	}
	return u
}

// RedisClusterURL returns the URL of the Redis Cluster started by `make
// test` (three masters with one replica each), in the form
// redis.ParseClusterURL reads: redis://h1:p1?addr=h2:p2&addr=…, every node
// listed. Tests on it keep to keys of their own and never flush it, nor
// stop or pause its nodes: other packages use it at the same time. A test
// that kills a node starts its own with StartRedisCluster.
func RedisClusterURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("ROOMCAL_TEST_REDIS_CLUSTER_URL")
	if u == "" {
		t.Fatal("ROOMCAL_TEST_REDIS_CLUSTER_URL is not set: run the tests with `make test`, which starts a Redis Cluster (apt-get install redis-server redis-tools)")
	}
	return u
}

// Server is a server process owned by one test. It is stopped when the
// test ends.
type Server struct {
	t    testing.TB
	name string
	args []string
	port int
	dir  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	started bool          // started once: restarts keep the port
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// URL is the server's base URL: http://… for Radicale, redis://… for Redis.
func (s *Server) URL() string {
	switch s.name {
	case "redis":
		return "redis://" + s.Addr() + "/0"
	case "aiosmtpd":
		return "smtp://" + s.Addr()
	}
	return "http://" + s.Addr() + "/"
}

// FlushAll empties a Redis server the way an operator's FLUSHALL would:
// every key of every database, while the servers using it keep running.
// Tests use it to prove that nothing roomcal promises rests on Redis.
func (s *Server) FlushAll(t testing.TB) {
	t.Helper()
	if s.name != "redis" {
		t.Fatalf("FLUSHALL on %s: not a Redis server", s.name)
	}
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "*1\r\n$8\r\nFLUSHALL\r\n"); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	reply := make([]byte, 5)
	if _, err := io.ReadFull(conn, reply); err != nil || string(reply) != "+OK\r\n" {
		t.Fatalf("FLUSHALL answered %q, %v", reply, err)
	}
}

// StartRadicale starts a private Radicale on a free loopback port with its
// own storage folder. Its calendar homes are URL()+"USER/".
func StartRadicale(t testing.TB) *Server {
	t.Helper()
	need(t, radicaleBin, "radicale")
	dir := t.TempDir()
	port := FreePort(t)
	s := &Server{t: t, name: "radicale", port: port, dir: dir}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// StartRedis starts a private Redis on a free loopback port that keeps
// nothing on disk.
func StartRedis(t testing.TB) *Server {
	t.Helper()
	need(t, redisBin, "redis-server")
	dir := t.TempDir()
	port := FreePort(t)
	s := &Server{t: t, name: "redis", port: port, dir: dir}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) command() []string {
	if s.name == "aiosmtpd" {
		return smtpCommand(s.port, s.Maildir())
	}
	if s.name == "redis" {
		return []string{redisBin, "--port", fmt.Sprint(s.port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", s.dir}
	}
	return []string{radicaleBin,
		"--storage-filesystem-folder=" + filepath.Join(s.dir, "collections"),
		"--auth-type=none",
		"--server-hosts=127.0.0.1:" + fmt.Sprint(s.port)}
}

// Start (re)starts the server on its port with its data folder and waits
// until it answers. The port was free when it was picked but another
// test's server may take it first: a server that exits at start-up is
// started again on a new port (only before its first successful start).
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	var last string
	for attempt := 0; attempt < 5; attempt++ {
		ok, out := s.startOnce()
		if ok {
			return
		}
		last = out
		if s.started {
			break
		}
		s.port = FreePort(s.t)
	}
	s.t.Fatalf("testenv: %s did not start on %s:\n%s", s.name, s.Addr(), last)
}

func (s *Server) startOnce() (bool, string) {
	args := s.command()
	cmd := exec.Command(args[0], args[1:]...)
	logPath := filepath.Join(s.dir, s.name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		s.t.Fatalf("testenv: %v", err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testenv: start %s: %v", s.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			return false, string(out)
		default:
		}
		if s.answers(cmd.Process.Pid) {
			s.cmd, s.exited, s.started = cmd, exited, true
			return true, ""
		}
		time.Sleep(25 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	out, _ := os.ReadFile(logPath)
	return false, "no answer within 15s:\n" + string(out)
}

// Stop kills the server (SIGKILL: like a crash) and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// answers reports whether our server (process pid) answers on the port;
// for Redis it checks the process id the server reports, so a server of
// another test on the same port is not taken for ours.
func (s *Server) answers(pid int) bool {
	if s.name == "aiosmtpd" {
		return smtpAnswers(s.Addr())
	}
	if s.name == "redis" {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
			return false
		}
		buf := make([]byte, 8192)
		n, _ := io.ReadAtLeast(c, buf, 1)
		return strings.Contains(string(buf[:n]), fmt.Sprintf("process_id:%d\r\n", pid))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, s.URL(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func need(t testing.TB, bin, pkg string) {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: install it with `apt-get install %s` (make test does)", bin, pkg)
	}
}
