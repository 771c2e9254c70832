package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The SMTP sink of the tests is Debian's aiosmtpd (python3-aiosmtpd)
// with its Mailbox handler: every message it accepts is kept in a
// maildir, where tests read it.
const pythonBin = "/usr/bin/python3"

func smtpCommand(port int, maildir string) []string {
	return []string{pythonBin, "-m", "aiosmtpd", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", port),
		"-c", "aiosmtpd.handlers.Mailbox", maildir}
}

// smtpAnswers reports whether an SMTP server greets on addr.
func smtpAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220") {
		return false
	}
	_, _ = c.Write([]byte("QUIT\r\n"))
	return true
}

// Maildir is the folder an aiosmtpd Server keeps messages in.
func (s *Server) Maildir() string { return filepath.Join(s.dir, "maildir") }

// StartSMTP starts a private aiosmtpd on a free loopback port, keeping
// every message in Maildir(); URL() is smtp://127.0.0.1:PORT. Stop and
// Start take it down and bring it back on the same port.
func StartSMTP(t testing.TB) *Server {
	t.Helper()
	needAiosmtpd(t)
	s := &Server{t: t, name: "aiosmtpd", port: FreePort(t), dir: t.TempDir()}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// NewSMTP returns a private aiosmtpd that is not started yet (its port
// is reserved by nothing: Start it when the test wants the server up).
func NewSMTP(t testing.TB) *Server {
	t.Helper()
	needAiosmtpd(t)
	s := &Server{t: t, name: "aiosmtpd", port: FreePort(t), dir: t.TempDir()}
	t.Cleanup(s.Stop)
	return s
}

func needAiosmtpd(t testing.TB) {
	t.Helper()
	need(t, pythonBin, "python3")
	if err := aiosmtpdImportable(); err != nil {
		t.Fatalf("python3-aiosmtpd is missing: install it with `apt-get install python3-aiosmtpd` (make test does): %v", err)
	}
}

// SMTPSink returns the SMTP URL and maildir of the aiosmtpd that `make
// test` started (ROOMCAL_TEST_SMTP_URL, ROOMCAL_TEST_SMTP_MAILDIR).
// Tests on it tell their messages apart by recipient (random addresses).
func SMTPSink(t testing.TB) (url, maildir string) {
	t.Helper()
	url, maildir = os.Getenv("ROOMCAL_TEST_SMTP_URL"), os.Getenv("ROOMCAL_TEST_SMTP_MAILDIR")
	if url == "" || maildir == "" {
		t.Fatal("ROOMCAL_TEST_SMTP_URL or ROOMCAL_TEST_SMTP_MAILDIR is not set: run the tests with `make test`, which starts aiosmtpd (apt-get install python3-aiosmtpd)")
	}
	return url, maildir
}

// Mail is one message found in a maildir.
type Mail struct {
	File string
	Raw  []byte
	*mail.Message
}

// ReadMaildir returns the messages in a maildir (new and cur) whose To
// header holds to ("" for all), oldest file first.
func ReadMaildir(t testing.TB, dir, to string) []Mail {
	t.Helper()
	var files []string
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range es {
			files = append(files, filepath.Join(dir, sub, e.Name()))
		}
	}
	sort.Strings(files)
	var out []Mail
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // moved meanwhile
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("message %s does not parse: %v", f, err)
		}
		if to != "" && !strings.Contains(strings.ToLower(m.Header.Get("To")), strings.ToLower(to)) {
			continue
		}
		out = append(out, Mail{File: f, Raw: raw, Message: m})
	}
	return out
}

// AwaitMail waits until the maildir holds at least n messages to to and
// returns them; it fails the test after timeout.
func AwaitMail(t testing.TB, dir, to string, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ms := ReadMaildir(t, dir, to)
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %s after %s, want %d", len(ms), to, timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// aiosmtpdImportable runs python3 -c "import aiosmtpd".
func aiosmtpdImportable() error {
	return exec.Command(pythonBin, "-c", "import aiosmtpd").Run()
}
