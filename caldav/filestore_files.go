package caldav

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fsCheckCalendarName returns an *InvalidNameError unless name is a safe
// calendar name, used as is for its folder: ASCII letters, digits and
// "-_.@+~", 1 to fsMaxNameLen bytes, not starting with "." and without
// "..".
func fsCheckCalendarName(name string) error {
	bad := func(reason string) error { return &InvalidNameError{Kind: "calendar", Name: name, Reason: reason} }
	if name == "" {
		return bad("empty")
	}
	for _, r := range name {
		if !fsSafeByte(r) {
			return bad(fmt.Sprintf("character %q is not allowed (ASCII letters, digits and -_.@+~ only)", r))
		}
	}
	switch {
	case len(name) > fsMaxNameLen:
		return bad(fmt.Sprintf("longer than %d bytes", fsMaxNameLen))
	case strings.HasPrefix(name, "."):
		return bad(`starts with "." (reserved for the store's own files)`)
	case strings.Contains(name, ".."):
		return bad(`contains ".."`)
	}
	return nil
}

// fsCheckObjectName returns an *InvalidNameError unless name is an object
// name: like on a CalDAV server, one path segment with any character but
// "/" (and "\"), control characters and invalid UTF-8, not "." or "..".
// Its file name (fsObjectFile) must fit in fsMaxNameLen bytes.
func fsCheckObjectName(name string) error {
	bad := func(reason string) error { return &InvalidNameError{Kind: "object", Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("empty")
	case name == "." || name == "..":
		return bad("not a path segment")
	case strings.ContainsAny(name, `/\`):
		return bad("contains a slash")
	case !utf8.ValidString(name):
		return bad("invalid UTF-8")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("contains a control character")
	case len(fsObjectFile(name)) > fsMaxNameLen:
		return bad(fmt.Sprintf("its file name would be longer than %d bytes", fsMaxNameLen))
	}
	return nil
}

// fsSafeByte says r is kept as is in a file name.
func fsSafeByte(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-_.@+~", r)
}

// fsObjectFile is the file name of an object: its name with every byte
// other than ASCII letters, digits and "-_.@+~", and a leading ".",
// percent-encoded (upper-case hex), so that any object name is a safe
// file name and the store's own files (".*") stay apart.
func fsObjectFile(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if fsSafeByte(rune(c)) && !(i == 0 && c == '.') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// fsObjectName is the inverse of fsObjectFile; ok is false for a file
// name that fsObjectFile does not produce.
func fsObjectName(file string) (name string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(file); i++ {
		c := file[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(file) {
			return "", false
		}
		v, err := strconv.ParseUint(file[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	name = b.String()
	if fsCheckObjectName(name) != nil || fsObjectFile(name) != file {
		return "", false
	}
	return name, true
}

// path is the file of an object of the calendar.
func (c *fsCalendar) path(name string) string {
	return filepath.Join(c.dir, fsObjectFile(name))
}

// fsFileURL names an object's file the way HTTPError names a resource.
func fsFileURL(c *fsCalendar, name string) string {
	return "file://" + filepath.ToSlash(c.path(name))
}

// fsCheckObject checks data as a server checks the body of a PUT and
// returns the object's UID; a refusal is the *HTTPError a server sends.
func fsCheckObject(c *fsCalendar, name string, data []byte) (string, error) {
	if len(data) > fsMaxObjectSize {
		return "", &HTTPError{
			Method: http.MethodPut, URL: fsFileURL(c, name), Status: http.StatusRequestEntityTooLarge,
			Body: fmt.Sprintf("object of %d bytes is above the limit of %d", len(data), fsMaxObjectSize),
		}
	}
	uid, err := fsParseObject(data)
	if err != nil {
		return "", &HTTPError{
			Method: http.MethodPut, URL: fsFileURL(c, name), Status: http.StatusBadRequest,
			Body: "not a calendar object: " + err.Error(),
		}
	}
	return uid, nil
}

// fsParseObject checks the structure a CalDAV server requires of a
// calendar object resource (RFC 4791 4.1, as Radicale checks it): UTF-8
// content lines, one VCALENDAR with balanced components, components of
// one type besides VTIMEZONE, and for VEVENT, VTODO and VJOURNAL a UID,
// the same in all of them. It returns that UID ("" when there is none).
// Property values are not checked.
func fsParseObject(data []byte) (string, error) {
	if len(data) == 0 {
		return "", errors.New("empty body")
	}
	if !utf8.Valid(data) {
		return "", errors.New("not UTF-8")
	}
	p := fsICalParser{}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	var cur []byte
	curNo, have := 0, false
	for i, raw := range strings.Split(text, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		if raw != "" && (raw[0] == ' ' || raw[0] == '\t') {
			if !have {
				return "", fmt.Errorf("line %d: folded line continues nothing", i+1)
			}
			cur = append(cur, raw[1:]...)
			continue
		}
		if have {
			if err := p.line(curNo, string(cur)); err != nil {
				return "", err
			}
		}
		cur, curNo, have = append(cur[:0], raw...), i+1, raw != ""
	}
	if have {
		if err := p.line(curNo, string(cur)); err != nil {
			return "", err
		}
	}
	if len(p.stack) > 0 {
		return "", fmt.Errorf("%s is not closed", p.stack[len(p.stack)-1])
	}
	if p.tops == 0 {
		return "", errors.New("no VCALENDAR")
	}
	return p.uid, nil
}

// fsICalParser follows the components of an iCalendar stream.
type fsICalParser struct {
	stack    []string // open components, outermost first
	tops     int      // top-level components seen
	compType string   // type of the calendar's components (VTIMEZONE aside)
	curUID   string   // UID of the open second-level component
	uid      string   // UID of the object
}

func (p *fsICalParser) line(n int, l string) error {
	i := strings.IndexAny(l, ";:")
	if i <= 0 || !fsICalToken(l[:i]) {
		return fmt.Errorf("line %d: no property name", n)
	}
	name := strings.ToUpper(l[:i])
	j := i
	for inQuote := false; j < len(l); j++ {
		if l[j] == '"' {
			inQuote = !inQuote
		} else if l[j] == ':' && !inQuote {
			break
		}
	}
	if j == len(l) {
		return fmt.Errorf("line %d: %s has no value", n, name)
	}
	value := l[j+1:]
	switch name {
	case "BEGIN":
		comp := strings.ToUpper(strings.TrimSpace(value))
		if !fsICalToken(comp) {
			return fmt.Errorf("line %d: BEGIN without a component name", n)
		}
		if len(p.stack) == 0 {
			p.tops++
			if p.tops > 1 {
				return fmt.Errorf("line %d: more than one top-level component", n)
			}
			if comp != "VCALENDAR" {
				return fmt.Errorf("line %d: top-level component is %s, not VCALENDAR", n, comp)
			}
		}
		p.stack = append(p.stack, comp)
		if len(p.stack) == 2 {
			p.curUID = ""
		}
	case "END":
		comp := strings.ToUpper(strings.TrimSpace(value))
		if len(p.stack) == 0 || p.stack[len(p.stack)-1] != comp {
			return fmt.Errorf("line %d: END:%s closes no open component", n, comp)
		}
		if len(p.stack) == 2 {
			if err := p.endComponent(comp); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
		}
		p.stack = p.stack[:len(p.stack)-1]
	default:
		if len(p.stack) == 0 {
			return fmt.Errorf("line %d: property %s outside VCALENDAR", n, name)
		}
		if len(p.stack) == 2 && name == "UID" {
			p.curUID = value
		}
	}
	return nil
}

// endComponent checks a component of the calendar as it closes.
func (p *fsICalParser) endComponent(comp string) error {
	if comp == "VTIMEZONE" {
		return nil
	}
	if p.compType == "" {
		p.compType = comp
	} else if p.compType != comp {
		return fmt.Errorf("components of more than one type in one object: %s and %s", p.compType, comp)
	}
	switch comp {
	case "VEVENT", "VTODO", "VJOURNAL":
	default:
		return nil
	}
	switch {
	case p.curUID == "":
		return fmt.Errorf("%s without UID", comp)
	case p.uid == "":
		p.uid = p.curUID
	case p.uid != p.curUID:
		return fmt.Errorf("%s components with different UIDs in one object: %q and %q", comp, p.uid, p.curUID)
	}
	return nil
}

// fsICalToken says s is an iana-token or x-name: letters, digits, "-".
func fsICalToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// fsWriteFileAtomic replaces dir/name with data so that a crash leaves
// the old or the new content, never a mix: write a temporary file in dir,
// sync it, rename it over the target, sync dir.
func fsWriteFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, fsTempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	renamed = true
	return fsSyncDir(dir)
}

// fsSyncDir makes the entries of a directory (a rename, a removal)
// durable. Windows cannot sync a directory and does not need to.
func fsSyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// fsRemoveTemps removes the temporary files and folders (".tmp-*") among
// the entries of dir: leftovers of writes that a crash interrupted.
func fsRemoveTemps(dir string, entries []os.DirEntry) error {
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), fsTempPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove leftover %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// fsNewEpoch returns a random epoch for a new calendar history.
func fsNewEpoch() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new epoch: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
