package caldav

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// fsCalendar is one calendar folder of a FileStore. Its state is read
// from disk on first use and then kept in memory; mu serialises writes
// (and loading) and lets reads run together.
type fsCalendar struct {
	name string
	dir  string

	mu     sync.RWMutex
	closed bool        // the store was closed
	st     *fsCalState // nil until loaded, and after a write left it unsure

	// Set from the store's options when the calendar is loaded.
	maxTombstones   int
	compactMinLines int
	logger          *slog.Logger
}

// fsCalState is the in-memory state of a loaded calendar.
type fsCalState struct {
	epoch string
	floor uint64 // tokens below this seq are no longer answerable
	seq   uint64 // last change

	entries map[string]*fsEntry // objects and tombstones by name
	uids    map[string]string   // UID -> object name, objects with a UID
	tombs   int                 // tombstones in entries

	log      *os.File // the change log, opened to append
	logLines int      // lines in the change log, header included

	// broken is set by a write that failed after it may have changed the
	// disk: the state is dropped and read again from disk.
	broken bool
}

// fsEntry is the last change of one object name: the live object, or a
// tombstone. It is also the record format of the change log.
type fsEntry struct {
	Seq     uint64 `json:"seq"`
	Name    string `json:"name"`
	ETag    string `json:"etag,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`

	data []byte // content of a live object
	uid  string // its UID, if it has a well-formed one
}

// fsLogHeader is the first line of a change log.
type fsLogHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Epoch   string `json:"epoch"`
	// Floor is the oldest seq tokens may carry (deletions before it are
	// forgotten); Seq the last change at the time the log was written.
	Floor uint64 `json:"floor"`
	Seq   uint64 `json:"seq"`
}

// object returns a copy of a live entry as an Object.
func (e *fsEntry) object() Object {
	return Object{Name: e.Name, ETag: e.ETag, Data: slices.Clone(e.data)}
}

// live returns the entry of an existing object, or nil.
func (st *fsCalState) live(name string) *fsEntry {
	if e := st.entries[name]; e != nil && !e.Deleted {
		return e
	}
	return nil
}

// view runs fn with the calendar's state under the read lock, loading the
// state first if needed.
func (c *fsCalendar) view(s *FileStore, fn func(st *fsCalState) error) error {
	for {
		c.mu.RLock()
		if c.closed {
			c.mu.RUnlock()
			return s.errClosed("read " + c.name)
		}
		if st := c.st; st != nil {
			defer c.mu.RUnlock()
			return fn(st)
		}
		c.mu.RUnlock()

		c.mu.Lock()
		if !c.closed && c.st == nil {
			if err := c.load(s); err != nil {
				c.mu.Unlock()
				return err
			}
		}
		c.mu.Unlock()
	}
}

// update runs fn with the calendar's state under the write lock, after
// loading the state if needed and checking ctx again (the lock may have
// taken a while). A state that fn marked broken is dropped.
func (c *fsCalendar) update(ctx context.Context, s *FileStore, op string, fn func(st *fsCalState) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return s.errClosed(op + " " + c.name)
	}
	if c.st == nil {
		if err := c.load(s); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("caldav: file store %s %s: %w", op, c.name, err)
	}
	err := fn(c.st)
	if c.st.broken {
		_ = c.st.close()
		c.st = nil
	}
	return err
}

// close closes the change log.
func (st *fsCalState) close() error {
	if st.log == nil {
		return nil
	}
	err := st.log.Close()
	st.log = nil
	return err
}

// checkUID refuses a UID that another object of the calendar has, as
// servers do (Radicale 409 no-uid-conflict, Nextcloud 400 or 409).
func (st *fsCalState) checkUID(c *fsCalendar, name, uid string) error {
	if uid == "" {
		return nil
	}
	if other, ok := st.uids[uid]; ok && other != name {
		return &HTTPError{
			Method: http.MethodPut,
			URL:    fsFileURL(c, name),
			Status: http.StatusConflict,
			Body:   fmt.Sprintf("no-uid-conflict: UID %q is already used by %s in calendar %s", uid, other, c.name),
		}
	}
	return nil
}

// put writes an object and records the change; it returns the new ETag.
func (st *fsCalState) put(c *fsCalendar, name string, data []byte, uid string) (string, error) {
	seq := st.seq + 1
	sum := sha256.Sum256(data)
	e := &fsEntry{Seq: seq, Name: name, SHA256: hex.EncodeToString(sum[:]), data: slices.Clone(data), uid: uid}
	e.ETag = fsMakeETag(st.epoch, seq, e.SHA256)
	if err := fsWriteFileAtomic(c.dir, fsObjectFile(name), e.data); err != nil {
		st.broken = true
		return "", fsUnavailable("write", c.name+"/"+name, err)
	}
	if err := st.append(e); err != nil {
		st.broken = true
		return "", fsUnavailable("write change log of", c.name, err)
	}
	st.apply(e)
	st.maybeCompact(c)
	return e.ETag, nil
}

// remove deletes a live object and records a tombstone.
func (st *fsCalState) remove(c *fsCalendar, prev *fsEntry) error {
	path := c.path(prev.Name)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.broken = true
		return fsUnavailable("delete", c.name+"/"+prev.Name, err)
	}
	if err := fsSyncDir(c.dir); err != nil {
		st.broken = true
		return fsUnavailable("delete", c.name+"/"+prev.Name, err)
	}
	t := &fsEntry{Seq: st.seq + 1, Name: prev.Name, Deleted: true}
	if err := st.append(t); err != nil {
		st.broken = true
		return fsUnavailable("write change log of", c.name, err)
	}
	st.apply(t)
	st.maybeCompact(c)
	return nil
}

// apply makes a change (already on disk) part of the in-memory state.
func (st *fsCalState) apply(e *fsEntry) {
	if prev := st.entries[e.Name]; prev != nil {
		if prev.Deleted {
			st.tombs--
		} else if prev.uid != "" && st.uids[prev.uid] == prev.Name {
			delete(st.uids, prev.uid)
		}
	}
	st.entries[e.Name] = e
	if e.Deleted {
		st.tombs++
	} else if e.uid != "" {
		if _, taken := st.uids[e.uid]; !taken {
			st.uids[e.uid] = e.Name
		}
	}
	st.seq = max(st.seq, e.Seq)
}

// append writes change records to the end of the change log and syncs it.
func (st *fsCalState) append(recs ...*fsEntry) error {
	var buf bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if _, err := st.log.Write(buf.Bytes()); err != nil {
		return err
	}
	if err := st.log.Sync(); err != nil {
		return err
	}
	st.logLines += len(recs)
	return nil
}

// maybeCompact rewrites the change log when it holds too many tombstones
// or mostly superseded lines. The write that called it has succeeded
// whatever happens here (both the old and the new log hold it): after a
// failure the state is read again from disk and compaction retried later.
func (st *fsCalState) maybeCompact(c *fsCalendar) {
	if st.tombs <= c.maxTombstones && (st.logLines <= c.compactMinLines || st.logLines <= 2*len(st.entries)) {
		return
	}
	if err := st.compact(c); err != nil {
		c.logger.Warn("caldav file store: compacting the change log failed; will retry", "calendar", c.name, "err", err)
	}
}

// compact forgets the older half of the tombstones when there are more
// than allowed (raising the floor of valid tokens) and rewrites the change
// log with one line per remembered name.
func (st *fsCalState) compact(c *fsCalendar) error {
	floor := st.floor
	var drop []*fsEntry
	if st.tombs > c.maxTombstones {
		var tombs []*fsEntry
		for _, e := range st.entries {
			if e.Deleted {
				tombs = append(tombs, e)
			}
		}
		sort.Slice(tombs, func(i, j int) bool { return tombs[i].Seq < tombs[j].Seq })
		drop = tombs[:len(tombs)-c.maxTombstones/2]
		floor = max(floor, drop[len(drop)-1].Seq)
	}
	dropped := make(map[string]bool, len(drop))
	for _, e := range drop {
		dropped[e.Name] = true
	}
	recs := make([]*fsEntry, 0, len(st.entries)-len(drop))
	for _, e := range st.entries {
		if !dropped[e.Name] {
			recs = append(recs, e)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	data, err := fsEncodeLog(fsLogHeader{Format: fsLogFormat, Version: fsLogVersion, Epoch: st.epoch, Floor: floor, Seq: st.seq}, recs)
	if err != nil {
		return err
	}
	if err := fsWriteFileAtomic(c.dir, fsLogFile, data); err != nil {
		// The new log may be in place or not: read again whichever is.
		st.broken = true
		return err
	}
	// The old handle appends to the replaced file: open the new one.
	f, err := os.OpenFile(filepath.Join(c.dir, fsLogFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		st.broken = true
		return err
	}
	_ = st.log.Close()
	st.log = f
	st.logLines = 1 + len(recs)
	for name := range dropped {
		delete(st.entries, name)
	}
	st.tombs -= len(drop)
	st.floor = floor
	return nil
}

// fsEncodeLog renders a whole change log.
func fsEncodeLog(h fsLogHeader, recs []*fsEntry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends each value with '\n'
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return nil, err
	}
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// fsMakeETag derives an ETag from the calendar's epoch, the seq of the
// write and the data: unique for every write of the calendar's history.
func fsMakeETag(epoch string, seq uint64, sha string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", epoch, seq, sha)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// load reads the calendar from disk: it replays the change log, then
// checks it against the object files and records what differs (a crash
// between an object's rename and its log record, or files edited while
// the store was closed) as new changes. A missing or damaged change log
// is rebuilt from the files with a new epoch, which invalidates the old
// tokens. Called with c.mu held for writing.
func (c *fsCalendar) load(s *FileStore) error {
	c.maxTombstones = s.opts.MaxTombstones
	c.compactMinLines = s.opts.compactMinLines
	c.logger = s.opts.Logger
	files, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("caldav: file store: calendar %q: %w", c.name, ErrNotFound)
	}
	if err != nil {
		return fsUnavailable("read calendar", c.name, err)
	}
	if err := fsRemoveTemps(c.dir, files); err != nil {
		return fsUnavailable("read calendar", c.name, err)
	}
	st, rebuild, err := c.readLog()
	if err != nil {
		return fsUnavailable("read change log of", c.name, err)
	}

	// What the files say.
	onDisk := make(map[string]bool)
	var recs []*fsEntry
	var names []string
	for _, f := range files {
		if strings.HasPrefix(f.Name(), ".") {
			continue
		}
		name, ok := fsObjectName(f.Name())
		if !f.Type().IsRegular() || !ok {
			c.logger.Warn("caldav file store: ignoring a file that cannot be an object", "calendar", c.name, "file", f.Name())
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := os.ReadFile(c.path(name))
		if err != nil {
			return fsUnavailable("read", c.name+"/"+name, err)
		}
		onDisk[name] = true
		uid, verr := fsParseObject(data)
		if verr != nil {
			c.logger.Warn("caldav file store: object is not a valid calendar object; served as it is", "calendar", c.name, "object", name, "err", verr)
		}
		sum := sha256.Sum256(data)
		sha := hex.EncodeToString(sum[:])
		prev := st.entries[name]
		if prev != nil && !prev.Deleted && prev.SHA256 == sha {
			prev.data, prev.uid = data, uid
			continue
		}
		st.seq++
		e := &fsEntry{Seq: st.seq, Name: name, SHA256: sha, data: data, uid: uid}
		e.ETag = fsMakeETag(st.epoch, e.Seq, sha)
		recs = append(recs, e)
		if !rebuild {
			c.logger.Info("caldav file store: object changed on disk outside the store; recorded as a change", "calendar", c.name, "object", name)
		}
	}
	var gone []string
	for name, e := range st.entries {
		if !e.Deleted && !onDisk[name] {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		st.seq++
		recs = append(recs, &fsEntry{Seq: st.seq, Name: name, Deleted: true})
		c.logger.Info("caldav file store: object removed on disk outside the store; recorded as a deletion", "calendar", c.name, "object", name)
	}
	// Index the entries as they were in the log (their data is now set),
	// then the new records.
	for _, e := range st.entries {
		if e.Deleted {
			st.tombs++
		} else if e.uid != "" {
			if _, taken := st.uids[e.uid]; !taken {
				st.uids[e.uid] = e.Name
			}
		}
	}
	if rebuild {
		data, err := fsEncodeLog(fsLogHeader{Format: fsLogFormat, Version: fsLogVersion, Epoch: st.epoch, Seq: st.seq}, recs)
		if err != nil {
			return fsUnavailable("write change log of", c.name, err)
		}
		if err := fsWriteFileAtomic(c.dir, fsLogFile, data); err != nil {
			return fsUnavailable("write change log of", c.name, err)
		}
		st.logLines = 1 + len(recs)
	}
	st.log, err = os.OpenFile(filepath.Join(c.dir, fsLogFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fsUnavailable("open change log of", c.name, err)
	}
	if !rebuild && len(recs) > 0 {
		if err := st.append(recs...); err != nil {
			_ = st.close()
			return fsUnavailable("write change log of", c.name, err)
		}
	}
	for _, e := range recs {
		st.apply(e)
	}
	st.maybeCompact(c)
	if st.broken {
		_ = st.close()
		return fsUnavailable("compact change log of", c.name, errors.New("change log replaced but not reopened"))
	}
	c.st = st
	return nil
}

// readLog parses the change log into a state without data. rebuild says
// the log was missing or damaged (a damaged one is kept aside as
// .changes.log.damaged-<time>): the state is then empty, with a new epoch.
// A torn last line (a crash while appending) is cut off the file.
func (c *fsCalendar) readLog() (st *fsCalState, rebuild bool, err error) {
	st = &fsCalState{entries: make(map[string]*fsEntry), uids: make(map[string]string)}
	path := filepath.Join(c.dir, fsLogFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Info("caldav file store: calendar has no change log; starting a new history", "calendar", c.name)
		st.epoch, err = fsNewEpoch()
		return st, true, err
	}
	if err != nil {
		return nil, false, err
	}
	if i := bytes.LastIndexByte(raw, '\n'); i+1 < len(raw) {
		// A torn tail: the last append did not complete (nor its sync, so
		// it was never acknowledged, and its seq never made a token). Cut
		// it off so that the next append starts a line. Anything else
		// that does not parse, a complete last line included, is damage.
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return nil, false, err
		}
		raw = raw[:i+1]
	}
	if perr := st.parseLog(raw); perr != nil {
		aside := fmt.Sprintf("%s.damaged-%d", path, time.Now().UnixNano())
		c.logger.Warn("caldav file store: change log is damaged; starting a new history (sync tokens of this calendar become invalid)", "calendar", c.name, "err", perr, "kept", aside)
		if err := os.Rename(path, aside); err != nil {
			return nil, false, err
		}
		st = &fsCalState{entries: make(map[string]*fsEntry), uids: make(map[string]string)}
		st.epoch, err = fsNewEpoch()
		return st, true, err
	}
	return st, false, nil
}

// parseLog replays the lines of a change log.
func (st *fsCalState) parseLog(raw []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	if !sc.Scan() {
		return errors.New("empty change log")
	}
	var h fsLogHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.Format != fsLogFormat || h.Version != fsLogVersion || h.Epoch == "" {
		return fmt.Errorf("header: not a version %d %s with an epoch", fsLogVersion, fsLogFormat)
	}
	st.epoch, st.floor, st.seq = h.Epoch, h.Floor, max(h.Seq, h.Floor)
	st.logLines = 1
	for line := 2; sc.Scan(); line++ {
		st.logLines++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		e := new(fsEntry)
		if err := json.Unmarshal(sc.Bytes(), e); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if e.Seq == 0 || fsCheckObjectName(e.Name) != nil || !e.Deleted && e.ETag == "" {
			return fmt.Errorf("line %d: not a change record", line)
		}
		if prev := st.entries[e.Name]; prev != nil && prev.Seq >= e.Seq {
			return fmt.Errorf("line %d: seq %d of %s does not follow %d", line, e.Seq, e.Name, prev.Seq)
		}
		st.entries[e.Name] = e
		st.seq = max(st.seq, e.Seq)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return nil
}
