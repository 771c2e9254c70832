package caldav

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FileStore is the embedded calendar store: a Store over files in one
// data directory (ROOMCAL_DATA_DIR, ./data by default), for the default
// set-up that needs no CalDAV server. It
// behaves like a CalDAV server (Radicale is the reference): opaque ETags
// that change on every write, conditional writes that fail with
// ErrPrecondition, change tokens with a delta since the token, and the
// iCalendar checks a server makes before it stores an object (one
// VCALENDAR, one UID per object, a UID used by one object of a calendar).
//
// One process only: the data directory belongs to the one FileStore that
// opened it (OpenFileStore takes a lock file and a second opener fails).
// The store keeps the state of the calendars in memory and never sees
// writes made by anyone else while it runs, so the embedded store serves a
// single roomcal instance; several replicas need a real CalDAV server
// (ROOMCAL_CALDAV_URL). Files changed, added or removed while the store
// was closed are picked up, as changes, when it opens a calendar again.
//
// Layout of the data directory:
//
//	DIR/.lock                        lock file of the owning process
//	DIR/<calendar>/                  one folder per calendar
//	DIR/<calendar>/.calendar.json    {"displayName": …}
//	DIR/<calendar>/.changes.log      change log (see below)
//	DIR/<calendar>/<object file>     one file per object, the iCalendar
//	                                 data exactly as written
//	DIR/**/.tmp-*                    temporary files of writes under way;
//	                                 leftovers of a crash are removed
//
// A calendar name is its folder's name: ASCII letters, digits and
// "-_.@+~", at most 200 bytes, not starting with "." and without "..".
// Object names are what a CalDAV server accepts, one path segment (no
// "/", "\", control characters or invalid UTF-8, not "." or ".."); the
// object file is the name with the bytes other than ASCII letters, digits
// and "-_.@+~", and a leading ".", percent-encoded ("réunion 1.ics" is
// "r%C3%A9union%201.ics"), at most 200 bytes. Other names give an
// *InvalidNameError. On a case-insensitive file system two object names
// that differ only in case are refused as the same object.
//
// Every write goes to a temporary file in the same folder, is synced,
// renamed over the object and followed by a sync of the folder; then a
// record is appended to the change log and synced. A write is
// acknowledged only after both, so an acknowledged write survives a
// crash, and a reader never sees half an object. The change log holds one
// JSON line per change (object name, sequence number, ETag, SHA-256 of the
// data, or a tombstone for a deletion) after a header line that gives the
// calendar's epoch. When the store opens a calendar it checks the files
// against the log, so a crash between the rename and the log record is
// recorded as a change with a new ETag.
//
// Sync tokens have the form "roomcal-fs:<epoch>:<seq>": seq is the
// calendar's change counter, epoch a random value that names one history
// of the calendar (a calendar whose change log was lost gets a new one).
// Changes answers ErrInvalidSyncToken for a token of another epoch, of a
// seq the calendar has not reached, or older than the forgotten
// tombstones (see FileStoreOptions.MaxTombstones).
//
// Errors: the sentinel errors of Store (ErrNotFound, ErrPrecondition,
// ErrExists, ErrInvalidSyncToken, and ErrUnavailable for failures of the
// file system). Data a server would refuse gives the *HTTPError that a
// server would have sent: 400 for data that is not a calendar object, 409
// for a UID already used by another object of the calendar, 413 above
// 10 MiB. Method and URL of such an error name the file, not a server.
//
// Memory: a calendar is read whole on its first use (files, change log)
// and then served from memory, which writes keep up to date; Get,
// MultiGet, Query and Changes never touch the disk after that. Query
// returns every object of the calendar (the contract allows a superset:
// callers filter by time). The change log is rewritten compactly when it
// holds mostly superseded lines or too many tombstones.
//
// A FileStore is safe for concurrent use. Writes are serialised per
// calendar, so of N concurrent conditional writes to one object exactly
// one wins; reads of a calendar run in parallel with each other. Each
// write waits for three syncs to disk.
type FileStore struct {
	dir  string
	opts FileStoreOptions
	lock *os.File

	mu     sync.Mutex // guards closed and cals
	closed bool
	cals   map[string]*fsCalendar
}

var _ Store = (*FileStore)(nil)

// FileStoreOptions tunes a FileStore. The zero value gives the defaults.
type FileStoreOptions struct {
	// MaxTombstones bounds how many deletions a calendar remembers for
	// Changes. When a calendar holds more, the older half of them are
	// forgotten, and tokens from before the newest forgotten deletion
	// get ErrInvalidSyncToken (the caller then does a full listing).
	// Zero means 10000.
	MaxTombstones int
	// Logger receives notes on repairs made when a calendar is opened
	// (objects changed on disk, a change log rebuilt). Nil means
	// slog.Default().
	Logger *slog.Logger

	// compactMinLines overrides fsCompactMinLines (tests).
	compactMinLines int
}

const (
	fsDefaultMaxTombstones = 10000
	// fsMaxObjectSize is the largest object accepted (Nextcloud's limit).
	fsMaxObjectSize = 10 << 20
	// fsCompactMinLines is the length of change log below which it is never
	// rewritten only to drop superseded lines.
	fsCompactMinLines = 4096
	// fsMaxNameLen keeps names, and the temporary names next to them,
	// within the 255 bytes file systems allow.
	fsMaxNameLen = 200

	fsTokenPrefix  = "roomcal-fs:"
	fsMetaFile     = ".calendar.json"
	fsLogFile      = ".changes.log"
	fsLockFile     = ".lock"
	fsTempPrefix   = ".tmp-"
	fsLogFormat    = "roomcal-changelog"
	fsLogVersion   = 1
	fsDirPerm      = 0o750
	fsLockFilePerm = 0o600
)

// InvalidNameError reports a calendar or object name that the FileStore
// refuses (see FileStore for the rules).
type InvalidNameError struct {
	Kind   string // "calendar" or "object"
	Name   string
	Reason string
}

func (e *InvalidNameError) Error() string {
	return fmt.Sprintf("caldav: invalid %s name %q: %s", e.Kind, e.Name, e.Reason)
}

// fsGoneError is the answer to an Update of an object that does not
// exist: the object is not found, and the conditional write lost against
// its deletion (a server answers 412 to an If-Match on a missing
// resource), so it matches both ErrNotFound and ErrPrecondition.
type fsGoneError struct{}

func (fsGoneError) Error() string {
	return "caldav: not found: the object to update does not exist (precondition failed)"
}

func (fsGoneError) Is(target error) bool {
	return target == ErrNotFound || target == ErrPrecondition
}

// fsCalMeta is the content of .calendar.json.
type fsCalMeta struct {
	DisplayName string    `json:"displayName"`
	Created     time.Time `json:"created,omitzero"`
}

// OpenFileStore opens (creating it if needed) the data directory dir with
// the default options. See OpenFileStoreWithOptions.
func OpenFileStore(dir string) (*FileStore, error) {
	return OpenFileStoreWithOptions(dir, FileStoreOptions{})
}

// OpenFileStoreWithOptions opens the data directory dir, creating it if
// needed, takes its lock (failing if another FileStore, in this process or
// another one, has it open) and removes the temporary files a crash may
// have left. Calendars are read lazily, on their first use. Close releases
// the directory.
func OpenFileStoreWithOptions(dir string, opts FileStoreOptions) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("caldav: open file store: empty data directory")
	}
	if opts.MaxTombstones <= 0 {
		opts.MaxTombstones = fsDefaultMaxTombstones
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.compactMinLines <= 0 {
		opts.compactMinLines = fsCompactMinLines
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("caldav: open file store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, fsDirPerm); err != nil {
		return nil, fmt.Errorf("caldav: open file store: create data directory: %w", err)
	}
	lock, err := fsLockDir(filepath.Join(abs, fsLockFile))
	if err != nil {
		return nil, fmt.Errorf("caldav: open file store %s: %w (the embedded store serves one roomcal process; several need a CalDAV server)", abs, err)
	}
	s := &FileStore{dir: abs, opts: opts, lock: lock, cals: make(map[string]*fsCalendar)}
	if err := s.removeLeftovers(); err != nil {
		_ = fsUnlockDir(lock)
		return nil, fmt.Errorf("caldav: open file store %s: %w", abs, err)
	}
	return s, nil
}

// removeLeftovers deletes the temporary files and folders of writes a
// crash interrupted, in the data directory and in each calendar folder.
func (s *FileStore) removeLeftovers() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read data directory: %w", err)
	}
	if err := fsRemoveTemps(s.dir, entries); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || fsCheckCalendarName(e.Name()) != nil {
			continue
		}
		calDir := filepath.Join(s.dir, e.Name())
		sub, err := os.ReadDir(calDir)
		if err != nil {
			return fmt.Errorf("read calendar folder %s: %w", e.Name(), err)
		}
		if err := fsRemoveTemps(calDir, sub); err != nil {
			return err
		}
	}
	return nil
}

// Dir returns the absolute path of the data directory.
func (s *FileStore) Dir() string { return s.dir }

// Close releases the data directory. Calls after Close fail with an error
// matching ErrUnavailable; Close itself may be called more than once.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, c := range s.cals {
		c.mu.Lock()
		c.closed = true
		if c.st != nil {
			if err := c.st.close(); err != nil {
				errs = append(errs, err)
			}
			c.st = nil
		}
		c.mu.Unlock()
	}
	if err := fsUnlockDir(s.lock); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("caldav: close file store %s: %w", s.dir, err)
	}
	return nil
}

// errClosed is returned by the calls made after Close.
func (s *FileStore) errClosed(op string) error {
	return fmt.Errorf("caldav: file store %s: %s: store is closed: %w", s.dir, op, ErrUnavailable)
}

// Ping checks that the data directory exists and can be written to.
func (s *FileStore) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("caldav: file store ping: %w", err)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return s.errClosed("ping")
	}
	fi, err := os.Stat(s.dir)
	if err != nil {
		return fsUnavailable("ping", s.dir, err)
	}
	if !fi.IsDir() {
		return fsUnavailable("ping", s.dir, errors.New("not a directory"))
	}
	f, err := os.CreateTemp(s.dir, fsTempPrefix+"ping-*")
	if err != nil {
		return fsUnavailable("ping", s.dir, err)
	}
	name := f.Name()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(cerr, rerr); err != nil {
		return fsUnavailable("ping", s.dir, err)
	}
	return nil
}

// Calendars lists the calendar folders of the data directory, sorted by
// name, with the display names given to CreateCalendar. A folder made by
// hand (no .calendar.json, or one that does not parse) is a calendar with
// an empty display name.
func (s *FileStore) Calendars(ctx context.Context) ([]CalendarInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("caldav: file store calendars: %w", err)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, s.errClosed("calendars")
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fsUnavailable("list calendars", s.dir, err)
	}
	var out []CalendarInfo
	for _, e := range entries {
		if !e.IsDir() || fsCheckCalendarName(e.Name()) != nil {
			continue
		}
		info := CalendarInfo{Name: e.Name()}
		meta, err := fsReadMeta(filepath.Join(s.dir, e.Name()))
		if err != nil {
			// The calendar is there all the same; only its name is lost.
			s.opts.Logger.Warn("caldav file store: cannot read the display name of a calendar", "calendar", e.Name(), "err", err)
		}
		info.DisplayName = meta.DisplayName
		out = append(out, info)
	}
	return out, nil
}

// fsReadMeta reads the .calendar.json of a calendar folder; a missing file
// gives empty metadata.
func fsReadMeta(calDir string) (fsCalMeta, error) {
	var meta fsCalMeta
	b, err := os.ReadFile(filepath.Join(calDir, fsMetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return meta, nil
	}
	if err != nil {
		return meta, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return fsCalMeta{}, fmt.Errorf("%s: %w", fsMetaFile, err)
	}
	return meta, nil
}

// CreateCalendar makes the folder of a new calendar, with its metadata and
// an empty change log, atomically: the folder is built under a temporary
// name and renamed into place. It returns an error matching ErrExists when
// the calendar is already there.
func (s *FileStore) CreateCalendar(ctx context.Context, cal, displayName string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("caldav: file store create calendar %s: %w", cal, err)
	}
	if err := fsCheckCalendarName(cal); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.errClosed("create calendar " + cal)
	}
	final := filepath.Join(s.dir, cal)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("caldav: file store create calendar %s: %w", cal, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fsUnavailable("create calendar", cal, err)
	}
	tmp, err := os.MkdirTemp(s.dir, fsTempPrefix+"cal-*")
	if err != nil {
		return fsUnavailable("create calendar", cal, err)
	}
	if err := s.fillCalendarDir(tmp, displayName); err != nil {
		_ = os.RemoveAll(tmp)
		return fsUnavailable("create calendar", cal, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		return fsUnavailable("create calendar", cal, err)
	}
	if err := fsSyncDir(s.dir); err != nil {
		return fsUnavailable("create calendar", cal, err)
	}
	s.cals[cal] = &fsCalendar{name: cal, dir: final}
	return nil
}

// fillCalendarDir writes the metadata and an empty change log (with a new
// epoch) into the folder of a calendar being created.
func (s *FileStore) fillCalendarDir(dir, displayName string) error {
	if err := os.Chmod(dir, fsDirPerm); err != nil {
		return err
	}
	meta, err := json.Marshal(fsCalMeta{DisplayName: displayName, Created: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := fsWriteFileAtomic(dir, fsMetaFile, append(meta, '\n')); err != nil {
		return err
	}
	epoch, err := fsNewEpoch()
	if err != nil {
		return err
	}
	logData, err := fsEncodeLog(fsLogHeader{Format: fsLogFormat, Version: fsLogVersion, Epoch: epoch}, nil)
	if err != nil {
		return err
	}
	return fsWriteFileAtomic(dir, fsLogFile, logData)
}

// calendar returns the calendar cal, checking ctx, the name, that the
// store is open and that the calendar exists (ErrNotFound otherwise).
func (s *FileStore) calendar(ctx context.Context, op, cal string) (*fsCalendar, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("caldav: file store %s %s: %w", op, cal, err)
	}
	if err := fsCheckCalendarName(cal); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, s.errClosed(op + " " + cal)
	}
	if c := s.cals[cal]; c != nil {
		return c, nil
	}
	dir := filepath.Join(s.dir, cal)
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("caldav: file store %s: calendar %q: %w", op, cal, ErrNotFound)
	}
	if err != nil {
		return nil, fsUnavailable(op, cal, err)
	}
	c := &fsCalendar{name: cal, dir: dir}
	s.cals[cal] = c
	return c, nil
}

// Get reads one object from the calendar's memory cache.
func (s *FileStore) Get(ctx context.Context, cal, name string) (Object, error) {
	if err := fsCheckObjectName(name); err != nil {
		return Object{}, err
	}
	c, err := s.calendar(ctx, "get", cal)
	if err != nil {
		return Object{}, err
	}
	var obj Object
	err = c.view(s, func(st *fsCalState) error {
		e := st.live(name)
		if e == nil {
			return fmt.Errorf("caldav: file store get %s/%s: %w", cal, name, ErrNotFound)
		}
		obj = e.object()
		return nil
	})
	return obj, err
}

// MultiGet reads the named objects that exist, in the order asked, each
// once; names of objects that do not exist are left out.
func (s *FileStore) MultiGet(ctx context.Context, cal string, names []string) ([]Object, error) {
	for _, n := range names {
		if err := fsCheckObjectName(n); err != nil {
			return nil, err
		}
	}
	c, err := s.calendar(ctx, "multiget", cal)
	if err != nil {
		return nil, err
	}
	var out []Object
	err = c.view(s, func(st *fsCalState) error {
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			if e := st.live(n); e != nil {
				out = append(out, e.object())
			}
		}
		return nil
	})
	return out, err
}

// Query returns every object of the calendar, sorted by name: the
// contract allows a superset of the objects with an instance in
// [start, end), and callers filter by time themselves. Contents come from
// memory after the calendar's first use.
func (s *FileStore) Query(ctx context.Context, cal string, start, end time.Time) ([]Object, error) {
	c, err := s.calendar(ctx, "query", cal)
	if err != nil {
		return nil, err
	}
	var out []Object
	err = c.view(s, func(st *fsCalState) error {
		out = make([]Object, 0, len(st.entries)-st.tombs)
		for _, e := range st.entries {
			if !e.Deleted {
				out = append(out, e.object())
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Create stores a new object if none exists under that name (an error
// matching ErrPrecondition otherwise) and returns its ETag.
func (s *FileStore) Create(ctx context.Context, cal, name string, data []byte) (string, error) {
	if err := fsCheckObjectName(name); err != nil {
		return "", err
	}
	c, err := s.calendar(ctx, "create", cal)
	if err != nil {
		return "", err
	}
	uid, err := fsCheckObject(c, name, data)
	if err != nil {
		return "", err
	}
	var etag string
	err = c.update(ctx, s, "create", func(st *fsCalState) error {
		if st.live(name) != nil {
			return fmt.Errorf("caldav: file store create %s/%s: object exists: %w", cal, name, ErrPrecondition)
		}
		if err := st.checkUID(c, name, uid); err != nil {
			return err
		}
		// A file the store does not know about: the other spelling of a
		// name on a case-insensitive file system.
		if _, err := os.Lstat(c.path(name)); err == nil {
			return fmt.Errorf("caldav: file store create %s/%s: a file of that name (in another case?) is already there: %w", cal, name, ErrPrecondition)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fsUnavailable("create", cal+"/"+name, err)
		}
		etag, err = st.put(c, name, data, uid)
		return err
	})
	return etag, err
}

// Update replaces an object if its current ETag is etag and returns the
// new ETag. A stale ETag gives an error matching ErrPrecondition; a
// missing object an error matching both ErrNotFound and ErrPrecondition
// (servers answer 412 to an If-Match on a missing resource); an empty
// etag an error matching neither (a caller's mistake, as for Client).
func (s *FileStore) Update(ctx context.Context, cal, name string, data []byte, etag string) (string, error) {
	if err := fsCheckObjectName(name); err != nil {
		return "", err
	}
	c, err := s.calendar(ctx, "update", cal)
	if err != nil {
		return "", err
	}
	uid, err := fsCheckObject(c, name, data)
	if err != nil {
		return "", err
	}
	if etag == "" {
		return "", fmt.Errorf("caldav: file store update %s/%s: empty etag (Update is conditional; Create makes new objects)", cal, name)
	}
	var newETag string
	err = c.update(ctx, s, "update", func(st *fsCalState) error {
		prev := st.live(name)
		if prev == nil {
			return fmt.Errorf("caldav: file store update %s/%s: %w", cal, name, fsGoneError{})
		}
		if prev.ETag != etag {
			return fmt.Errorf("caldav: file store update %s/%s: ETag %q is not the current one: %w", cal, name, etag, ErrPrecondition)
		}
		if err := st.checkUID(c, name, uid); err != nil {
			return err
		}
		newETag, err = st.put(c, name, data, uid)
		return err
	})
	return newETag, err
}

// Delete removes an object; with a non-empty etag only if that is still
// its ETag (an error matching ErrPrecondition otherwise). A missing object
// gives an error matching ErrNotFound.
func (s *FileStore) Delete(ctx context.Context, cal, name, etag string) error {
	if err := fsCheckObjectName(name); err != nil {
		return err
	}
	c, err := s.calendar(ctx, "delete", cal)
	if err != nil {
		return err
	}
	return c.update(ctx, s, "delete", func(st *fsCalState) error {
		prev := st.live(name)
		if prev == nil {
			return fmt.Errorf("caldav: file store delete %s/%s: %w", cal, name, ErrNotFound)
		}
		if etag != "" && prev.ETag != etag {
			return fmt.Errorf("caldav: file store delete %s/%s: ETag %q is not the current one: %w", cal, name, etag, ErrPrecondition)
		}
		return st.remove(c, prev)
	})
}

// Changes reports the changes of a calendar since token: with an empty
// token every object (Full), otherwise the objects written since the
// token with their current ETags and the names deleted since — an object
// created and deleted after the token included, as Radicale and Nextcloud
// report it.
// Both lists are sorted by name. A token this calendar cannot answer for
// gives an error matching ErrInvalidSyncToken.
func (s *FileStore) Changes(ctx context.Context, cal, token string) (Changes, error) {
	c, err := s.calendar(ctx, "changes", cal)
	if err != nil {
		return Changes{}, err
	}
	var out Changes
	err = c.view(s, func(st *fsCalState) error {
		out.Token = st.token()
		if token == "" {
			out.Full = true
			for _, e := range st.entries {
				if !e.Deleted {
					out.Changed = append(out.Changed, ObjectRef{Name: e.Name, ETag: e.ETag})
				}
			}
			return nil
		}
		since, err := st.parseToken(token)
		if err != nil {
			return fmt.Errorf("caldav: file store changes %s: %w", cal, err)
		}
		for _, e := range st.entries {
			if e.Seq <= since {
				continue
			}
			if e.Deleted {
				out.Deleted = append(out.Deleted, e.Name)
			} else {
				out.Changed = append(out.Changed, ObjectRef{Name: e.Name, ETag: e.ETag})
			}
		}
		return nil
	})
	if err != nil {
		return Changes{}, err
	}
	sort.Slice(out.Changed, func(i, j int) bool { return out.Changed[i].Name < out.Changed[j].Name })
	sort.Strings(out.Deleted)
	return out, nil
}

// token is the sync token of the calendar's current state.
func (st *fsCalState) token() string {
	return fsTokenPrefix + st.epoch + ":" + strconv.FormatUint(st.seq, 10)
}

// parseToken returns the seq of a token of this calendar, or an error
// matching ErrInvalidSyncToken.
func (st *fsCalState) parseToken(token string) (uint64, error) {
	rest, ok := strings.CutPrefix(token, fsTokenPrefix)
	if !ok {
		return 0, fmt.Errorf("sync token %q is not a file store token: %w", token, ErrInvalidSyncToken)
	}
	epoch, seqStr, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, fmt.Errorf("malformed sync token %q: %w", token, ErrInvalidSyncToken)
	}
	seq, err := strconv.ParseUint(seqStr, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed sync token %q: %w", token, ErrInvalidSyncToken)
	}
	switch {
	case epoch != st.epoch:
		return 0, fmt.Errorf("sync token %q is from another history of the calendar (epoch %s): %w", token, st.epoch, ErrInvalidSyncToken)
	case seq > st.seq:
		return 0, fmt.Errorf("sync token %q is ahead of the calendar (at %d): %w", token, st.seq, ErrInvalidSyncToken)
	case seq < st.floor:
		return 0, fmt.Errorf("sync token %q is older than the remembered deletions (from %d): %w", token, st.floor, ErrInvalidSyncToken)
	}
	return seq, nil
}

// fsUnavailable wraps a failure of the file system as ErrUnavailable.
func fsUnavailable(op, what string, err error) error {
	return fmt.Errorf("caldav: file store %s %s: %w: %w", op, what, ErrUnavailable, err)
}
