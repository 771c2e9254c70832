// EventGate implements events.Gate on Redis (a single server or a Redis
// Cluster): the shared, atomic state of internal events and their
// registrations.
//
// # Keys
//
// Every key of an event carries the hash tag {event:ID}, so all of an
// event's keys live in one slot and every script touches one slot only
// (each key a script touches is passed in KEYS). With prefix P
// (WithPrefix, default "roomcal:"):
//
//	P{event:ID}:state      HASH  gen, ver, durable, etag, seq (the arrival counter),
//	                             the settings cap, wl (waiting list), opens, closes,
//	                             start, cancelled (numbers; times in Unix ms, 0 for
//	                             the zero time), info (the Event as JSON, written
//	                             and read by Go only)
//	P{event:ID}:members    HASH  member -> registration record (JSON, see lua/ev_lib.lua):
//	                             status ("confirmed" | "waitlisted"), seq, ver (version
//	                             of its last change), name, email, at (time, ms),
//	                             promoted (time, ms, when confirmed from the waiting
//	                             list; absent otherwise)
//	P{event:ID}:confirmed  ZSET  confirmed members, scored by seq
//	P{event:ID}:waiting    ZSET  waitlisted members, scored by seq (ZRANK + 1 is the position)
//	P{event:ID}:tombs      HASH  member -> version of its removal (tombstone)
//	P{event:ID}:log        HASH  version -> undo record (JSON): the before-images of the
//	                             member records, tombstones, settings, info and ETag
//	                             the change of that version touched
//	P{event:ID}:fail       LIST  rolled-back ranges "FROM TO AT_MS", oldest first
//	P{event:ID}:lock       STRING write lock token (SET NX PX)
//
//	P{events}:idx     ZSET   event id -> start (Unix ms)
//	P{events}:meta    HASH   v (index marker), token (the events calendar's change token)
//
// The event's state is present when state exists and the index when meta
// exists: a FLUSHALL removes them, and methods that need them return
// events.ErrNoState until Load or IndexLoad. The index lives in a slot of
// its own; Summaries pipelines one script per event (each in its own
// slot), which a Redis Cluster client splits by slot.
//
// Event.Settings are kept as the numeric fields of st, which the scripts
// decide by; info holds the rest of the Event (its Settings zeroed). All
// times are kept to the millisecond and come back in UTC; a zero time is
// stored as 0 (so the Unix epoch itself reads back as the zero time).
//
// # Scripts
//
// Each decision is one Lua script (lua/ev_*.lua, those on an event's keys
// sharing lua/ev_lib.lua) that checks and writes in one step: register,
// unregister, configure, reconcile, written, rollback, load, drop, state,
// progress, summary, and the index's range, load, put and token. Every
// change takes the next version and logs its before-images under it;
// rollback applies them newest first. The server's clock (TIME) dates
// failed ranges; registration windows are checked at the now given.
//
// Scripts may run twice (go-redis retries a command whose connection
// failed). Written, Rollback, Load, Drop, Reconcile and the index scripts
// are idempotent. A retried Register finds its own registration and
// answers Created false; a retried Unregister answers Found false with
// the version of its removal (so callers still wait for the right
// version); a retried Configure takes one more version, which changes
// nothing but is written like any other.

package redisgate

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

var (
	//go:embed lua/ev_lib.lua
	evLibSrc string
	//go:embed lua/ev_register.lua
	evRegisterSrc string
	//go:embed lua/ev_unregister.lua
	evUnregisterSrc string
	//go:embed lua/ev_configure.lua
	evConfigureSrc string
	//go:embed lua/ev_reconcile.lua
	evReconcileSrc string
	//go:embed lua/ev_state.lua
	evStateSrc string
	//go:embed lua/ev_mine.lua
	evMineSrc string
	//go:embed lua/ev_progress.lua
	evProgressSrc string
	//go:embed lua/ev_written.lua
	evWrittenSrc string
	//go:embed lua/ev_rollback.lua
	evRollbackSrc string
	//go:embed lua/ev_load.lua
	evLoadSrc string
	//go:embed lua/ev_drop.lua
	evDropSrc string
	//go:embed lua/ev_summary.lua
	evSummarySrc string
	//go:embed lua/ev_idx_range.lua
	evIdxRangeSrc string
	//go:embed lua/ev_idx_load.lua
	evIdxLoadSrc string
	//go:embed lua/ev_idx_put.lua
	evIdxPutSrc string
	//go:embed lua/ev_idx_token.lua
	evIdxTokenSrc string
)

var (
	evRegisterScript   = redis.NewScript(evLibSrc + evRegisterSrc)
	evUnregisterScript = redis.NewScript(evLibSrc + evUnregisterSrc)
	evConfigureScript  = redis.NewScript(evLibSrc + evConfigureSrc)
	evReconcileScript  = redis.NewScript(evLibSrc + evReconcileSrc)
	evStateScript      = redis.NewScript(evLibSrc + evStateSrc)
	evMineScript       = redis.NewScript(evLibSrc + evMineSrc)
	evProgressScript   = redis.NewScript(evLibSrc + evProgressSrc)
	evWrittenScript    = redis.NewScript(evLibSrc + evWrittenSrc)
	evRollbackScript   = redis.NewScript(evLibSrc + evRollbackSrc)
	evLoadScript       = redis.NewScript(evLibSrc + evLoadSrc)
	evDropScript       = redis.NewScript(evLibSrc + evDropSrc)
	evSummaryScript    = redis.NewScript(evSummarySrc)
	evIdxRangeScript   = redis.NewScript(evIdxRangeSrc)
	evIdxLoadScript    = redis.NewScript(evIdxLoadSrc)
	evIdxPutScript     = redis.NewScript(evIdxPutSrc)
	evIdxTokenScript   = redis.NewScript(evIdxTokenSrc)
)

// EventGate is events.Gate on Redis. It is safe for concurrent use; any
// number of EventGates in any number of processes may share one Redis
// (and a Gate: their keys do not meet).
type EventGate struct {
	// gate is a rooms' Gate on the same client and options, for its
	// client, prefix and script runner.
	gate *Gate
}

var _ events.Gate = (*EventGate)(nil)

// NewEventGate returns an EventGate on client, which may be a
// *redis.Client, a *redis.ClusterClient or a *redis.Ring. It takes the
// Gate's options: WithPrefix applies (and panics on '{' or '}' as New
// does); the others do not concern events.
func NewEventGate(client redis.UniversalClient, opts ...Option) *EventGate {
	return &EventGate{gate: New(client, opts...)}
}

// Watch implements events.Gate: the notices of the event's tag, which
// ev_written, ev_rollback, ev_load, ev_drop and unlock publish.
func (g *EventGate) Watch(event string) booking.Watch { return g.gate.notes.watch("event:" + event) }

// Close ends the EventGate's subscription to notices, if Watch started
// one. The client is the caller's to close.
func (g *EventGate) Close() { g.gate.Close() }

// eventKeys are the keys of one event.
type eventKeys struct {
	state, members, confirmed, waiting, tombs, log, fail, lock string
}

func (g *EventGate) keys(event string) eventKeys {
	p := g.gate.prefix + "{event:" + event + "}:"
	return eventKeys{
		state: p + "state", members: p + "members", confirmed: p + "confirmed", waiting: p + "waiting",
		tombs: p + "tombs", log: p + "log", fail: p + "fail", lock: p + "lock",
	}
}

// all lists the keys in the order every event script takes them (see
// lua/ev_lib.lua).
func (k eventKeys) all() []string {
	return []string{k.state, k.members, k.confirmed, k.waiting, k.tombs, k.log, k.fail, k.lock}
}

func (g *EventGate) indexKeys() []string {
	p := g.gate.prefix + "{events}:"
	return []string{p + "idx", p + "meta"}
}

// Register implements events.Gate.
func (g *EventGate) Register(ctx context.Context, event string, r events.Registration, now time.Time) (events.Outcome, error) {
	if event == "" || r.Member == "" {
		return events.Outcome{}, fmt.Errorf("register %s: event and member are required", event)
	}
	res, err := g.run(ctx, evRegisterScript, g.keys(event).all(), []any{r.Member, r.Name, r.Email, msOf(now)})
	if err != nil {
		return events.Outcome{}, fmt.Errorf("register %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return events.Outcome{}, fmt.Errorf("register %s for %s: %w", event, r.Member, err)
	}
	// {'OK', gen, ver, created, member, record, position}
	if len(res) != 7 {
		return events.Outcome{}, fmt.Errorf("register %s: unexpected script answer %v", event, res)
	}
	reg, err := decodeReg(str(res[4]), str(res[5]), int(num(res[6])))
	if err != nil {
		return events.Outcome{}, fmt.Errorf("register %s: %w", event, err)
	}
	return events.Outcome{Gen: str(res[1]), Ver: num(res[2]), Reg: reg, Created: num(res[3]) == 1}, nil
}

// Unregister implements events.Gate.
func (g *EventGate) Unregister(ctx context.Context, event, member string) (events.Outcome, error) {
	if event == "" || member == "" {
		return events.Outcome{}, fmt.Errorf("unregister %s: event and member are required", event)
	}
	res, err := g.run(ctx, evUnregisterScript, g.keys(event).all(), []any{member})
	if err != nil {
		return events.Outcome{}, fmt.Errorf("unregister %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return events.Outcome{}, fmt.Errorf("unregister %s for %s: %w", event, member, err)
	}
	if len(res) != 4 {
		return events.Outcome{}, fmt.Errorf("unregister %s: unexpected script answer %v", event, res)
	}
	return events.Outcome{Gen: str(res[1]), Ver: num(res[2]), Found: num(res[3]) == 1}, nil
}

// Configure implements events.Gate. ev.ID must be event (or empty).
func (g *EventGate) Configure(ctx context.Context, event string, ev events.Event) (events.Outcome, error) {
	ev, err := checkEvent(event, ev)
	if err != nil {
		return events.Outcome{}, fmt.Errorf("configure %s: %w", event, err)
	}
	info, err := encodeInfo(ev)
	if err != nil {
		return events.Outcome{}, fmt.Errorf("configure %s: %w", event, err)
	}
	s := ev.Settings
	args := []any{info, s.Capacity, flag(s.Waitlist), msOf(s.Opens), msOf(s.Closes), msOf(s.Start), flag(s.Cancelled)}
	res, err := g.run(ctx, evConfigureScript, g.keys(event).all(), args)
	if err != nil {
		return events.Outcome{}, fmt.Errorf("configure %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return events.Outcome{}, fmt.Errorf("configure %s: %w", event, err)
	}
	if len(res) != 3 {
		return events.Outcome{}, fmt.Errorf("configure %s: unexpected script answer %v", event, res)
	}
	return events.Outcome{Gen: str(res[1]), Ver: num(res[2])}, nil
}

// Reconcile implements events.Gate. ev.ID must be event (or empty). The
// settings' Start becomes ev.Start (ev.Settings.Start when ev.Start is
// zero). A present registration's At is kept as the registration's time
// when it is not zero; else now is.
func (g *EventGate) Reconcile(ctx context.Context, event, etag string, ev events.Event, present []events.Registration, now time.Time) (events.State, error) {
	ev, err := checkEvent(event, ev)
	if err != nil {
		return events.State{}, fmt.Errorf("reconcile %s: %w", event, err)
	}
	info, err := encodeInfo(ev)
	if err != nil {
		return events.State{}, fmt.Errorf("reconcile %s: %w", event, err)
	}
	start := ev.Start
	if start.IsZero() {
		start = ev.Settings.Start
	}
	regs, err := encodeRegs(present)
	if err != nil {
		return events.State{}, fmt.Errorf("reconcile %s: %w", event, err)
	}
	args := []any{etag, info, msOf(start), msOf(now), regs}
	res, err := g.run(ctx, evReconcileScript, g.keys(event).all(), args)
	if err != nil {
		return events.State{}, fmt.Errorf("reconcile %s: %w", event, err)
	}
	st, err := decodeState(res)
	if err != nil {
		return events.State{}, fmt.Errorf("reconcile %s: %w", event, err)
	}
	return st, nil
}

// State implements events.Gate.
func (g *EventGate) State(ctx context.Context, event string) (events.State, error) {
	if event == "" {
		return events.State{}, errors.New("state: event is required")
	}
	res, err := g.run(ctx, evStateScript, g.keys(event).all(), nil)
	if err != nil {
		return events.State{}, fmt.Errorf("state %s: %w", event, err)
	}
	st, err := decodeState(res)
	if err != nil {
		return events.State{}, fmt.Errorf("state %s: %w", event, err)
	}
	return st, nil
}

// Mine implements events.Gate: one HGET and one ZRANK.
func (g *EventGate) Mine(ctx context.Context, event, member string) (events.Registration, bool, error) {
	if event == "" || member == "" {
		return events.Registration{}, false, fmt.Errorf("mine %s: event and member are required", event)
	}
	res, err := g.run(ctx, evMineScript, g.keys(event).all(), []any{member})
	if err != nil {
		return events.Registration{}, false, fmt.Errorf("mine %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return events.Registration{}, false, fmt.Errorf("mine %s: %w", event, err)
	}
	// {'OK', 0} or {'OK', 1, member, record, position}
	if len(res) == 2 && num(res[1]) == 0 {
		return events.Registration{}, false, nil
	}
	if len(res) != 5 {
		return events.Registration{}, false, fmt.Errorf("mine %s: unexpected script answer %v", event, res)
	}
	reg, err := decodeReg(str(res[2]), str(res[3]), int(num(res[4])))
	if err != nil {
		return events.Registration{}, false, fmt.Errorf("mine %s: %w", event, err)
	}
	return reg, true, nil
}

// Progress implements events.Gate. Failed lists the ranges rolled back
// in the last ten minutes by the Redis server's clock.
func (g *EventGate) Progress(ctx context.Context, event string) (events.Progress, error) {
	if event == "" {
		return events.Progress{}, errors.New("progress: event is required")
	}
	res, err := g.run(ctx, evProgressScript, g.keys(event).all(), nil)
	if err != nil {
		return events.Progress{}, fmt.Errorf("progress %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return events.Progress{}, fmt.Errorf("progress %s: %w", event, err)
	}
	if len(res) < 4 || len(res)%2 != 0 {
		return events.Progress{}, fmt.Errorf("progress %s: unexpected script answer %v", event, res)
	}
	p := events.Progress{Gen: str(res[1]), Ver: num(res[2]), Durable: num(res[3])}
	for i := 4; i+1 < len(res); i += 2 {
		p.Failed = append(p.Failed, events.VerRange{From: num(res[i]), To: num(res[i+1])})
	}
	return p, nil
}

// Summaries implements events.Gate: one script per event, in one
// pipeline.
func (g *EventGate) Summaries(ctx context.Context, ids []string) ([]events.Summary, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds, err := g.summaries(ctx, ids, false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// The script cache was flushed (or this server never saw the
		// script): send it whole.
		cmds, err = g.summaries(ctx, ids, true)
	}
	if err != nil {
		return nil, fmt.Errorf("summaries: %w", classify(ctx, err))
	}
	out := make([]events.Summary, 0, len(ids))
	for i, c := range cmds {
		res, ok := c.Val().([]any)
		if !ok || len(res) == 0 {
			return nil, fmt.Errorf("summaries %s: unexpected script answer %v", ids[i], c.Val())
		}
		if res[0] == "NOSTATE" {
			continue
		}
		// {'OK', info, cap, wl, opens, closes, start, cancelled, nc, nw}
		if len(res) != 10 {
			return nil, fmt.Errorf("summaries %s: unexpected script answer %v", ids[i], res)
		}
		ev, err := decodeEvent(str(res[1]), res[2:8])
		if err != nil {
			return nil, fmt.Errorf("summaries %s: %w", ids[i], err)
		}
		out = append(out, events.Summary{Event: ev, Confirmed: int(num(res[8])), Waitlisted: int(num(res[9]))})
	}
	return out, nil
}

// summaries runs the summary script of every id in one pipeline, with
// EVALSHA or (whole) EVAL. It returns the first error of any command.
func (g *EventGate) summaries(ctx context.Context, ids []string, whole bool) ([]*redis.Cmd, error) {
	pipe := g.gate.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(ids))
	for i, id := range ids {
		k := g.keys(id)
		keys := []string{k.state, k.confirmed, k.waiting}
		if whole {
			cmds[i] = evSummaryScript.Eval(ctx, pipe, keys)
		} else {
			cmds[i] = evSummaryScript.EvalSha(ctx, pipe, keys)
		}
	}
	_, err := pipe.Exec(ctx)
	if err != nil {
		// Exec reports the first failed command; prefer a NOSCRIPT,
		// which the caller answers by sending the script whole.
		for _, c := range cmds {
			if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				return nil, c.Err()
			}
		}
		return nil, err
	}
	return cmds, nil
}

// Written implements events.Gate. Durable is bounded by the state's
// version: a version not taken yet cannot be on the calendar.
func (g *EventGate) Written(ctx context.Context, event, gen string, ver int64, etag string) error {
	if event == "" {
		return errors.New("written: event is required")
	}
	res, err := g.run(ctx, evWrittenScript, g.keys(event).all(), []any{gen, ver, etag})
	if err != nil {
		return fmt.Errorf("written %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return fmt.Errorf("written %s gen %s ver %d: %w", event, gen, ver, err)
	}
	return nil
}

// Rollback implements events.Gate. A lease that is no longer held, or a
// state of another generation, gives events.ErrLeaseLost; no state (with
// the lease still held) gives events.ErrNoState.
func (g *EventGate) Rollback(ctx context.Context, event, gen, lease string) error {
	if event == "" {
		return errors.New("rollback: event is required")
	}
	res, err := g.run(ctx, evRollbackScript, g.keys(event).all(), []any{gen, lease})
	if err != nil {
		return fmt.Errorf("rollback %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return fmt.Errorf("rollback %s gen %s: %w", event, gen, err)
	}
	return nil
}

// Load implements events.Gate. st.Event.ID must be event (or empty).
// A registration's Status is kept when it has a Seq (anything but
// Waitlisted is confirmed); its Position is ignored, and its Promoted
// kept when it is confirmed. An unnumbered registration with a zero At
// is dated by the Redis server's clock, and has no Promoted.
func (g *EventGate) Load(ctx context.Context, event string, st events.State, lease string) error {
	ev, err := checkEvent(event, st.Event)
	if err != nil {
		return fmt.Errorf("load %s: %w", event, err)
	}
	info, err := encodeInfo(ev)
	if err != nil {
		return fmt.Errorf("load %s: %w", event, err)
	}
	regs, err := encodeRegs(st.Registrations)
	if err != nil {
		return fmt.Errorf("load %s: %w", event, err)
	}
	gen := st.Gen
	if gen == "" {
		gen = randomID()
	}
	s := ev.Settings
	args := []any{lease, gen, st.Ver, st.ETag, st.Seq, info,
		s.Capacity, flag(s.Waitlist), msOf(s.Opens), msOf(s.Closes), msOf(s.Start), flag(s.Cancelled), regs}
	res, err := g.run(ctx, evLoadScript, g.keys(event).all(), args)
	if err != nil {
		return fmt.Errorf("load %s: %w", event, err)
	}
	if err := statusErr(res); err != nil {
		return fmt.Errorf("load %s: %w", event, err)
	}
	return nil
}

// Drop implements events.Gate. The event's entry in the index is left
// to IndexDel (it lives in another slot).
func (g *EventGate) Drop(ctx context.Context, event string) error {
	if event == "" {
		return errors.New("drop: event is required")
	}
	if _, err := g.run(ctx, evDropScript, g.keys(event).all(), nil); err != nil {
		return fmt.Errorf("drop %s: %w", event, err)
	}
	return nil
}

// Lock implements events.Gate with SET NX PX and a random token, as
// Gate.Lock does for rooms: Release deletes the key only if it still
// holds that token, with its own 5s timeout, trying again while Redis is
// unavailable (a failover), ignoring errors (at worst the lock expires
// after ttl).
func (g *EventGate) Lock(ctx context.Context, event string, ttl time.Duration) (booking.Lease, bool, error) {
	if event == "" || ttl < time.Millisecond {
		return booking.Lease{}, false, fmt.Errorf("lock %s: need an event and a ttl of at least 1ms", event)
	}
	key := g.keys(event).lock
	token := randomID()
	ok, err := g.gate.rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return booking.Lease{}, false, fmt.Errorf("lock %s: %w", event, classify(ctx, err))
	}
	if !ok {
		return booking.Lease{}, false, nil
	}
	return g.gate.lease(key, token), true, nil
}

// IndexRange implements events.Gate. Starts are compared to the
// millisecond.
func (g *EventGate) IndexRange(ctx context.Context, from, to time.Time) ([]string, error) {
	res, err := g.run(ctx, evIdxRangeScript, g.indexKeys(), []any{ceilMsOf(from), ceilMsOf(to)})
	if err != nil {
		return nil, fmt.Errorf("index range: %w", err)
	}
	if err := statusErr(res); err != nil {
		return nil, fmt.Errorf("index range: %w", err)
	}
	ids := make([]string, 0, len(res)-1)
	for _, v := range res[1:] {
		ids = append(ids, str(v))
	}
	return ids, nil
}

// IndexLoad implements events.Gate.
func (g *EventGate) IndexLoad(ctx context.Context, token string, starts map[string]time.Time) error {
	args := make([]any, 0, 1+2*len(starts))
	args = append(args, token)
	for id, s := range starts {
		args = append(args, id, msOf(s))
	}
	res, err := g.run(ctx, evIdxLoadScript, g.indexKeys(), args)
	if err != nil {
		return fmt.Errorf("index load: %w", err)
	}
	return statusErr(res)
}

// IndexPut implements events.Gate. With no index it writes nothing and
// returns events.ErrNoState (the next IndexLoad builds the index whole).
func (g *EventGate) IndexPut(ctx context.Context, id string, start time.Time) error {
	if id == "" {
		return errors.New("index put: id is required")
	}
	res, err := g.run(ctx, evIdxPutScript, g.indexKeys(), []any{"put", id, msOf(start)})
	if err != nil {
		return fmt.Errorf("index put %s: %w", id, err)
	}
	if err := statusErr(res); err != nil {
		return fmt.Errorf("index put %s: %w", id, err)
	}
	return nil
}

// IndexDel implements events.Gate. With no index it returns
// events.ErrNoState.
func (g *EventGate) IndexDel(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("index del: id is required")
	}
	res, err := g.run(ctx, evIdxPutScript, g.indexKeys(), []any{"del", id})
	if err != nil {
		return fmt.Errorf("index del %s: %w", id, err)
	}
	if err := statusErr(res); err != nil {
		return fmt.Errorf("index del %s: %w", id, err)
	}
	return nil
}

// IndexToken implements events.Gate (one HMGET: atomic as it stands).
func (g *EventGate) IndexToken(ctx context.Context) (string, error) {
	v, err := g.gate.rdb.HMGet(ctx, g.indexKeys()[1], "v", "token").Result()
	if err != nil {
		return "", fmt.Errorf("index token: %w", classify(ctx, err))
	}
	if v[0] == nil {
		return "", fmt.Errorf("index token: %w", events.ErrNoState)
	}
	token, _ := v[1].(string)
	return token, nil
}

// SetIndexToken implements events.Gate. With no index it writes nothing
// and returns events.ErrNoState: a token alone would make an empty index
// look present.
func (g *EventGate) SetIndexToken(ctx context.Context, token string) error {
	res, err := g.run(ctx, evIdxTokenScript, g.indexKeys(), []any{token})
	if err != nil {
		return fmt.Errorf("set index token: %w", err)
	}
	if err := statusErr(res); err != nil {
		return fmt.Errorf("set index token: %w", err)
	}
	return nil
}

// run runs a script whose answer is a table starting with a status word.
func (g *EventGate) run(ctx context.Context, s *redis.Script, keys []string, args []any) ([]any, error) {
	return g.gate.run(ctx, s, keys, args)
}

// statusErr maps a script's status word to the events errors.
func statusErr(res []any) error {
	switch res[0] {
	case "OK":
		return nil
	case "NOSTATE":
		return events.ErrNoState
	case "CLOSED":
		return events.ErrClosed
	case "FULL":
		return events.ErrFull
	case "LEASE":
		return events.ErrLeaseLost
	}
	return fmt.Errorf("unexpected script answer %v", res[0])
}

// checkEvent checks that ev is event's (an empty ID is taken as event's).
func checkEvent(event string, ev events.Event) (events.Event, error) {
	if event == "" {
		return ev, errors.New("event is required")
	}
	if ev.ID == "" {
		ev.ID = event
	}
	if ev.ID != event {
		return ev, fmt.Errorf("event %q given for event %q", ev.ID, event)
	}
	return ev, nil
}

// encodeInfo is the Event kept in st's info: its times to the
// millisecond in UTC, its Settings zeroed (they are st's numeric fields).
func encodeInfo(ev events.Event) (string, error) {
	ev.Settings = events.Settings{}
	ev.Start, ev.End, ev.Created = timeOf(msOf(ev.Start)), timeOf(msOf(ev.End)), timeOf(msOf(ev.Created))
	b, err := json.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("encode event: %w", err)
	}
	return string(b), nil
}

// decodeEvent builds an Event from info and the settings cap, wl,
// opens, closes, start and cancelled as the scripts return them.
func decodeEvent(info string, s []any) (events.Event, error) {
	var ev events.Event
	if err := json.Unmarshal([]byte(info), &ev); err != nil {
		return ev, fmt.Errorf("decode event: %w", err)
	}
	ev.Settings = events.Settings{
		Capacity:  int(num(s[0])),
		Waitlist:  num(s[1]) == 1,
		Opens:     timeOf(num(s[2])),
		Closes:    timeOf(num(s[3])),
		Start:     timeOf(num(s[4])),
		Cancelled: num(s[5]) == 1,
	}
	return ev, nil
}

// decodeState decodes the answer of ev_state.lua (and ev_reconcile.lua).
func decodeState(res []any) (events.State, error) {
	if err := statusErr(res); err != nil {
		return events.State{}, err
	}
	const head = 14 // 'OK', 12 fields, nconfirmed
	if len(res) < head || (len(res)-head)%2 != 0 {
		return events.State{}, fmt.Errorf("unexpected script answer %v", res)
	}
	ev, err := decodeEvent(str(res[12]), res[6:12])
	if err != nil {
		return events.State{}, err
	}
	st := events.State{
		Gen: str(res[1]), Ver: num(res[2]), Durable: num(res[3]), ETag: str(res[4]),
		Seq: num(res[5]), Event: ev,
	}
	nc := int(num(res[13]))
	n := (len(res) - head) / 2
	if n > 0 {
		st.Registrations = make([]events.Registration, 0, n)
	}
	for i := 0; i < n; i++ {
		pos := 0
		if i >= nc {
			pos = i - nc + 1
		}
		r, err := decodeReg(str(res[head+2*i]), str(res[head+2*i+1]), pos)
		if err != nil {
			return events.State{}, err
		}
		st.Registrations = append(st.Registrations, r)
	}
	return st, nil
}

// record is a registration as the scripts keep it (see lua/ev_lib.lua).
type record struct {
	Status string `json:"status"`
	Seq    int64  `json:"seq"`
	Ver    int64  `json:"ver"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	At     string `json:"at"`
	// Promoted is when it was confirmed from the waiting list (ms);
	// absent when it was not.
	Promoted string `json:"promoted,omitempty"`
}

func decodeReg(member, raw string, pos int) (events.Registration, error) {
	var r record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return events.Registration{}, fmt.Errorf("decode registration of %s: %w", member, err)
	}
	at, err := strconv.ParseInt(r.At, 10, 64)
	if err != nil {
		return events.Registration{}, fmt.Errorf("decode registration of %s: %w", member, err)
	}
	var promoted time.Time
	if r.Promoted != "" {
		ms, err := strconv.ParseInt(r.Promoted, 10, 64)
		if err != nil {
			return events.Registration{}, fmt.Errorf("decode registration of %s: promoted: %w", member, err)
		}
		promoted = timeOf(ms)
	}
	status := events.Confirmed
	if r.Status == statusWaitlisted {
		status = events.Waitlisted
	}
	return events.Registration{
		Member: member, Name: r.Name, Email: r.Email, Status: status,
		Seq: r.Seq, Position: pos, At: timeOf(at), Promoted: promoted,
	}, nil
}

// inReg is a registration given to Load or Reconcile (see ev_load.lua).
type inReg struct {
	Member string `json:"member"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Status string `json:"status"`
	Seq    int64  `json:"seq"`
	At     string `json:"at"`
	// Promoted: see record; absent for a zero time.
	Promoted string `json:"promoted,omitempty"`
}

// The statuses of a registration record, as the scripts write them.
const (
	statusConfirmed  = "confirmed"
	statusWaitlisted = "waitlisted"
)

func encodeRegs(regs []events.Registration) (string, error) {
	in := make([]inReg, 0, len(regs))
	for _, r := range regs {
		if r.Member == "" {
			return "", errors.New("a registration has no member")
		}
		s := statusConfirmed
		if r.Status == events.Waitlisted {
			s = statusWaitlisted
		}
		q := r.Seq
		if q < 0 {
			q = 0
		}
		ir := inReg{Member: r.Member, Name: r.Name, Email: r.Email, Status: s, Seq: q, At: strconv.FormatInt(msOf(r.At), 10)}
		if !r.Promoted.IsZero() {
			ir.Promoted = strconv.FormatInt(msOf(r.Promoted), 10)
		}
		in = append(in, ir)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("encode registrations: %w", err)
	}
	return string(b), nil
}

// msOf is t in Unix milliseconds (rounded down), 0 for the zero time.
func msOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return floorMs(t)
}

// ceilMsOf is t in Unix milliseconds rounded up, 0 for the zero time.
func ceilMsOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ceilMs(t)
}

// timeOf is the inverse of msOf, in UTC.
func timeOf(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// num reads an integer reply, or a string holding one.
func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
