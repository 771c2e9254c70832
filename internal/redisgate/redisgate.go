// Package redisgate implements booking.Gate on Redis (a single server or
// a Redis Cluster): the shared, atomic state of rooms that every replica
// of roomcal uses to decide who gets a slot.
//
// # Keys
//
// Every key of a room carries the hash tag {room:ID}, so all of a room's
// keys live in one slot and every script touches one slot only (each key
// a script touches is passed in KEYS). With WithSlots (roomcal groups
// rooms by site), the keys of room ID of group S are P{site:S}:room:ID:*
// instead: every room of a site in one slot, so that the claim script
// may count a member's bookings over the site (a quota). With prefix P
// (WithPrefix, default "roomcal:"):
//
//	P{room:ID}:meta     HASH  v (state marker), token, ms, ml (longest busy / long member, ms),
//	                          retired (present: the room takes no claim; retire.lua, load.lua)
//	P{room:ID}:busy     ZSET  busy intervals up to one day long, scored by start
//	P{room:ID}:long     ZSET  busy intervals longer than a day, scored by start
//	P{room:ID}:etags    HASH  object ref -> ETag
//	P{room:ID}:objm     HASH  object ref -> its members, joined by "\n"
//	P{room:ID}:org      ZSET  ORGANIZER\0member of each booking, score 0 (quotas: lib.lua)
//	P{room:ID}:holds    ZSET  members of live holds, scored by start
//	P{room:ID}:holdexp  ZSET  hold id -> expiry (Unix ms, from Redis TIME)
//	P{room:ID}:holdm    HASH  hold id -> its members, joined by "\n"
//	P{room:ID}:hmax     STRING longest hold member (ms)
//	P{room:ID}:lock     STRING refresh lock token (SET NX PX)
//	P{room:ID}:load:LID:{meta,busy,long,etags,objm,org}  staging of Load LID
//
// A member is "START|END|JSON" with START and END in Unix milliseconds
// and JSON the compact encoding of ref, kind, title and organizer; its
// score is START. The intervals overlapping [s, e) are found with one
// ZRANGEBYSCORE over starts in (s - maxlen, e), maxlen being the longest
// member of the set: O(log n + k). Intervals longer than a day are kept
// in their own (small) set so that one long external event does not
// widen every search.
//
// The state is present when meta exists: a FLUSHALL removes it and every
// method that needs state returns booking.ErrNoState until Load.
//
// # Scripts
//
// Each decision is one Lua script (lua/*.lua, sharing lua/lib.lua), run
// with EVALSHA (EVAL on a cache miss): claim, commit, release, apply,
// load (in chunks), busy, objects, unlock, retire, takeback. Token is one HMGET and Lock
// one SET NX PX, atomic as they stand. Expired holds are purged at the
// start of each script that reads holds, using the server's clock
// (TIME), so every replica agrees on expiry.
//
// Every script may safely run twice (go-redis retries a command whose
// connection failed): a Claim retried with the same HoldID finds its own
// hold and replaces it, a retried Commit finds its object already
// recorded (it ignores its own ref), Load and Apply replace; only a
// retried Release may report booking.ErrHoldLost.
//
// # Errors
//
// Failures to reach Redis (refused or dropped connections, timeouts, pool
// exhaustion, a server that is loading, read-only, out of memory or busy)
// match ErrUnavailable with errors.Is, and also still match the original
// error. A cancelled or expired ctx gives ctx's error, not ErrUnavailable.
package redisgate

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
)

// ErrUnavailable is matched (errors.Is) by errors that come from Redis
// being unreachable or unable to serve: the caller may retry later, or
// report the service as unavailable.
var ErrUnavailable = fmt.Errorf("redisgate: redis unavailable: %w", booking.ErrUnavailable)

var (
	//go:embed lua/lib.lua
	libSrc string
	//go:embed lua/claim.lua
	claimSrc string
	//go:embed lua/commit.lua
	commitSrc string
	//go:embed lua/release.lua
	releaseSrc string
	//go:embed lua/busy.lua
	busySrc string
	//go:embed lua/objects.lua
	objectsSrc string
	//go:embed lua/apply.lua
	applySrc string
	//go:embed lua/load.lua
	loadSrc string
	//go:embed lua/unlock.lua
	unlockSrc string
	//go:embed lua/extend.lua
	extendSrc string
	//go:embed lua/retire.lua
	retireSrc string
	//go:embed lua/takeback.lua
	takeBackSrc string
)

// Scripts that use the helpers get lib.lua prepended; each is still one
// script (one EVALSHA) per decision.
var (
	claimScript    = redis.NewScript(libSrc + claimSrc)
	commitScript   = redis.NewScript(libSrc + commitSrc)
	releaseScript  = redis.NewScript(libSrc + releaseSrc)
	busyScript     = redis.NewScript(libSrc + busySrc)
	objectsScript  = redis.NewScript(objectsSrc)
	applyScript    = redis.NewScript(libSrc + applySrc)
	loadScript     = redis.NewScript(libSrc + loadSrc)
	unlockScript   = redis.NewScript(unlockSrc)
	extendScript   = redis.NewScript(extendSrc)
	retireScript   = redis.NewScript(libSrc + retireSrc)
	takeBackScript = redis.NewScript(libSrc + takeBackSrc)
)

const (
	defaultPrefix = "roomcal:"
	// defaultChunk is how many busy intervals (at most; an object is
	// never split) one Load or Apply script writes.
	defaultChunk = 1000
	// stagingTTL bounds the life of an abandoned Load's staging keys.
	stagingTTL = 2 * time.Minute
	// unlockTimeout bounds the unlock call, which has no ctx of its own.
	unlockTimeout = 5 * time.Second
)

// Gate is booking.Gate on Redis. It is safe for concurrent use; any
// number of Gates in any number of processes may share one Redis.
type Gate struct {
	rdb    redis.UniversalClient
	prefix string
	slots  func(room string) string // WithSlots
	chunk  int
	memo   busyMemo
	ack    replicaAck // WithReplicaAck (see ack.go)
	notes  *notices   // Watch (see notices.go)
}

var _ booking.Gate = (*Gate)(nil)

// Option configures a Gate.
type Option func(*Gate)

// WithPrefix puts every key under prefix (default "roomcal:"), to share a
// Redis with other applications or keep tests apart. The prefix must not
// contain '{' or '}' (it would break the hash tags); New panics if it does.
func WithPrefix(prefix string) Option {
	return func(g *Gate) { g.prefix = prefix }
}

// WithChunk sets how many busy intervals one Load or Apply script writes
// at most (default 1000), bounding how long one script blocks Redis. An
// object's intervals are never split across chunks.
func WithChunk(n int) Option {
	return func(g *Gate) {
		if n > 0 {
			g.chunk = n
		}
	}
}

// WithSlots groups rooms into hash slots: slot(room) names the group
// (roomcal passes the room's site), and the keys of every room of a group
// carry the hash tag {site:GROUP}, so that one script may read all of
// them: a quota counted over a site is checked in the claim's own step,
// on a Redis Cluster too. A room for which slot returns "" keeps its own
// tag {room:ID}. A room moved to another group finds no state under its
// new keys and is loaded again from its calendar.
func WithSlots(slot func(room string) string) Option {
	return func(g *Gate) { g.slots = slot }
}

// New returns a Gate on client, which may be a *redis.Client, a
// *redis.ClusterClient or a *redis.Ring.
func New(client redis.UniversalClient, opts ...Option) *Gate {
	g := &Gate{rdb: client, prefix: defaultPrefix, chunk: defaultChunk}
	for _, o := range opts {
		o(g)
	}
	if strings.ContainsAny(g.prefix, "{}") {
		panic(fmt.Sprintf("redisgate: prefix %q must not contain '{' or '}'", g.prefix))
	}
	g.notes = newNotices(client, g.prefix)
	return g
}

// Ping checks that Redis answers, for readiness probes.
func (g *Gate) Ping(ctx context.Context) error {
	if err := g.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisgate: ping: %w", classify(ctx, err))
	}
	return nil
}

// keys of one room.
type roomKeys struct {
	tag                                  string // P{room:ID}, or P{site:S}:room:ID (WithSlots)
	notice                               string // the hash tag, as notices name it
	meta, busy, long, etags, objm, org   string
	holds, holdexp, holdm, hmax, lockKey string
}

func (g *Gate) keys(room string) roomKeys {
	t, notice := g.prefix+"{room:"+room+"}", "room:"+room
	if g.slots != nil {
		if s := g.slots(room); s != "" {
			notice = "site:" + s
			t = g.prefix + "{" + notice + "}:room:" + room
		}
	}
	return roomKeys{
		tag: t, notice: notice, meta: t + ":meta", busy: t + ":busy", long: t + ":long",
		etags: t + ":etags", objm: t + ":objm", org: t + ":org",
		holds: t + ":holds", holdexp: t + ":holdexp", holdm: t + ":holdm",
		hmax: t + ":hmax", lockKey: t + ":lock",
	}
}

func (k roomKeys) state() []string { return []string{k.meta, k.busy, k.long, k.etags, k.objm, k.org} }
func (k roomKeys) hold() []string  { return []string{k.holds, k.holdexp, k.holdm, k.hmax} }
func (k roomKeys) all() []string   { return append(k.state(), k.hold()...) }
func (k roomKeys) retire() []string {
	return append([]string{k.meta, k.lockKey, k.busy, k.long}, k.hold()...)
}

func (k roomKeys) staging(loadID string) []string {
	s := k.tag + ":load:" + loadID + ":"
	return []string{s + "meta", s + "busy", s + "long", s + "etags", s + "objm", s + "org"}
}

// Claim implements booking.Gate. A live hold with the same HoldID is the
// claimant's own: it does not clash, and is replaced (so a Claim retried
// after a lost reply does not conflict with itself).
func (g *Gate) Claim(ctx context.Context, room string, c booking.Claim) error {
	if err := c.Validate(room); err != nil {
		return fmt.Errorf("claim %s: %w", room, err)
	}
	keys, spec, weeks, err := g.quotaKeys(room, c.Quota)
	if err != nil {
		return fmt.Errorf("claim %s: %w", room, err)
	}
	args := make([]any, 0, 7+len(c.Intervals))
	args = append(args, c.HoldID, ms(c.TTL), ms(c.Buffer), c.Ignore, spec, weeks, flag(c.EvenRetired))
	for _, b := range c.Intervals {
		b.Ref, b.Kind = c.HoldID, booking.KindHold
		args = append(args, encode(b))
	}
	res, err := g.run(ctx, claimScript, keys, args)
	if err != nil {
		return fmt.Errorf("claim %s: %w", room, err)
	}
	if err := quotaOutcome(room, c.Quota, res); err != nil {
		return err
	}
	if res[0] == "RETIRED" {
		return fmt.Errorf("claim %s: %w", room, booking.ErrRetired)
	}
	return g.outcome("claim", room, res, c.Intervals)
}

// Retire implements booking.Gate with retire.lua.
func (g *Gate) Retire(ctx context.Context, room string, retired bool) error {
	if room == "" {
		return errors.New("retire: room is required")
	}
	k := g.keys(room)
	if _, err := g.run(ctx, retireScript, k.retire(), []any{flag(retired)}); err != nil {
		return fmt.Errorf("retire %s: %w", room, err)
	}
	return nil
}

// RetireIfClear implements booking.Gate with retire.lua (clear_after).
func (g *Gate) RetireIfClear(ctx context.Context, room string, after time.Time) (booking.RoomFuture, error) {
	if room == "" {
		return booking.RoomFuture{}, errors.New("retire: room is required")
	}
	k := g.keys(room)
	res, err := g.run(ctx, retireScript, k.retire(), []any{"1", strconv.FormatInt(after.UnixMilli(), 10)})
	if err != nil {
		return booking.RoomFuture{}, fmt.Errorf("retire %s: %w", room, err)
	}
	switch res[0] {
	case "OK":
		return booking.RoomFuture{}, nil
	case "NOSTATE":
		return booking.RoomFuture{}, fmt.Errorf("retire %s: %w", room, booking.ErrNoState)
	case "FUTURE":
		if len(res) < 2 {
			break
		}
		n, _ := strconv.Atoi(fmt.Sprint(res[1]))
		out := booking.RoomFuture{Holds: n}
		for _, r := range res[2:] {
			out.Refs = append(out.Refs, fmt.Sprint(r))
		}
		sort.Strings(out.Refs)
		return out, nil
	}
	return booking.RoomFuture{}, fmt.Errorf("retire %s: unexpected answer %v", room, res)
}

// TakeBack implements booking.Gate with takeback.lua.
func (g *Gate) TakeBack(ctx context.Context, room, ref string, back booking.ObjectState) error {
	if room == "" {
		return errors.New("take back: room is required")
	}
	if err := back.Validate(ref); err != nil {
		return fmt.Errorf("take back in %s: %w", room, err)
	}
	etag := back.ETag
	if etag == "" {
		etag, back.Busy = takenBack, nil
	}
	args := []any{ref, etag}
	for _, b := range back.Busy {
		b.Ref = ref
		args = append(args, encode(b))
	}
	k := g.keys(room)
	if _, err := g.run(ctx, takeBackScript, append(k.state(), k.lockKey), args); err != nil {
		return fmt.Errorf("take back %s in %s: %w", ref, room, err)
	}
	return nil
}

// takenBack is the ETag of a tombstone: a booking deleted again after a
// refused commit (takeback.lua).
const takenBack = "!taken-back"

// quotaKeys are the keys of a claim or commit script: the room's, then
// meta, org, holdm and holdexp of every other room of q's scope (which
// must share the room's slot); and the quota's arguments ("" without q).
func (g *Gate) quotaKeys(room string, q *booking.QuotaCheck) ([]string, string, string, error) {
	k := g.keys(room)
	keys := k.all()
	if q == nil {
		return keys, "", "", nil
	}
	for _, other := range q.Rooms {
		if other == room {
			continue
		}
		ok := g.keys(other)
		if g.slotOf(ok) != g.slotOf(k) {
			return nil, "", "", fmt.Errorf("quota room %s is not in the room's slot (see WithSlots)", other)
		}
		keys = append(keys, ok.meta, ok.org, ok.holdm, ok.holdexp)
	}
	spec, weeks := quotaArgs(q)
	return keys, spec, weeks, nil
}

// quotaOutcome turns the quota answers of a claim or commit script into
// errors: {'QUOTA', ...} a *booking.QuotaError, {'NOSTATE', i} (another
// room of the quota's scope has no state: its bookings cannot be counted
// until it is loaded) a *booking.NoStateError. Other answers give nil.
func quotaOutcome(room string, q *booking.QuotaCheck, res []any) error {
	if res[0] == "NOSTATE" && len(res) > 1 && q != nil {
		i, _ := strconv.Atoi(fmt.Sprint(res[1]))
		others := slicesWithout(q.Rooms, room)
		if i >= 1 && i <= len(others) {
			return &booking.NoStateError{Room: others[i-1]}
		}
	}
	if res[0] == "QUOTA" && len(res) == 5 {
		return quotaError(room, res)
	}
	return nil
}

// slotOf is the hash tag of a room's keys: what Redis Cluster hashes.
func (g *Gate) slotOf(k roomKeys) string { return k.notice }

func slicesWithout(list []string, x string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// quotaArgs encodes a quota check for claim.lua (see lib.lua, quota).
func quotaArgs(q *booking.QuotaCheck) (string, string) {
	who, _ := json.Marshal(q.Member)
	spec := strings.Join([]string{
		string(who[1 : len(who)-1]), strconv.FormatInt(q.Now.UnixMilli(), 10),
		strconv.FormatInt(ms(q.PerWeek), 10), strconv.Itoa(q.Ahead), strconv.FormatInt(ms(q.Longest), 10),
	}, "\t")
	weeks := make([]string, len(q.Weeks))
	for i, w := range q.Weeks {
		weeks[i] = strconv.FormatInt(w.Start.UnixMilli(), 10) + "," + strconv.FormatInt(w.End.UnixMilli(), 10)
	}
	return spec, strings.Join(weeks, ";")
}

// quotaError turns claim.lua's {'QUOTA', rule, used, limit, week} into a
// *booking.QuotaError.
func quotaError(room string, res []any) error {
	num := func(v any) int64 { n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64); return n }
	qe := &booking.QuotaError{Room: room, Used: num(res[2]), Limit: num(res[3])}
	switch fmt.Sprint(res[1]) {
	case "week":
		qe.Rule = booking.QuotaWeek
		qe.Week = time.UnixMilli(num(res[4])).UTC()
	case "ahead":
		qe.Rule = booking.QuotaAhead
	default:
		qe.Rule = booking.QuotaLongest
	}
	return qe
}

// Commit implements booking.Gate. The quota's keys are passed whether
// or not the hold is live (the script reads them only when it is gone).
func (g *Gate) Commit(ctx context.Context, room, holdID, ref, etag string, busy []booking.Busy, buffer time.Duration, quota *booking.QuotaCheck) error {
	if err := booking.ValidateCommit(room, ref, busy, buffer); err != nil {
		return fmt.Errorf("commit %s: %w", room, err)
	}
	keys, spec, weeks, err := g.quotaKeys(room, quota)
	if err != nil {
		return fmt.Errorf("commit %s: %w", room, err)
	}
	args := make([]any, 0, 6+len(busy))
	args = append(args, holdID, ref, etag, ms(buffer), spec, weeks)
	for _, b := range busy {
		b.Ref = ref
		args = append(args, encode(b))
	}
	res, err := g.run(ctx, commitScript, keys, args)
	if err != nil {
		return fmt.Errorf("commit %s: %w", room, err)
	}
	if err := quotaOutcome(room, quota, res); err != nil {
		return err
	}
	return g.outcome("commit", room, res, busy)
}

// outcome turns a claim or commit script's answer into an error.
func (g *Gate) outcome(op, room string, res []any, claimed []booking.Busy) error {
	switch res[0] {
	case "OK":
		return nil
	case "NOSTATE":
		return fmt.Errorf("%s %s: %w", op, room, booking.ErrNoState)
	case "CONFLICT":
		ce := &booking.ConflictError{Room: room}
		seen := map[string]bool{}
		for i := 2; i < len(res); i += 2 {
			m, _ := res[i].(string)
			if seen[m] {
				continue
			}
			seen[m] = true
			b, err := decode(m)
			if err != nil {
				return fmt.Errorf("%s %s: %w", op, room, err)
			}
			ce.Conflicts = append(ce.Conflicts, b)
		}
		booking.SortBusy(ce.Conflicts)
		return ce
	}
	return fmt.Errorf("%s %s: unexpected script answer %v", op, room, res[0])
}

// Release implements booking.Gate.
func (g *Gate) Release(ctx context.Context, room, holdID string) error {
	if room == "" || holdID == "" {
		return fmt.Errorf("release %s: room and hold id are required", room)
	}
	res, err := g.run(ctx, releaseScript, g.keys(room).hold(), []any{holdID})
	if err != nil {
		return fmt.Errorf("release %s: %w", room, err)
	}
	if res[0] == "LOST" {
		return fmt.Errorf("release %s hold %s: %w", room, holdID, booking.ErrHoldLost)
	}
	return nil
}

// Busy implements booking.Gate. Times come back in UTC, to the
// millisecond.
func (g *Gate) Busy(ctx context.Context, room string, from, to time.Time) ([]booking.Busy, error) {
	if room == "" || !to.After(from) {
		return nil, fmt.Errorf("busy %s: need a room and from before to", room)
	}
	k := g.keys(room)
	// The room's version (bumped by every script that changes its
	// intervals or adds a hold) says whether a memoised answer still
	// holds: one HGET instead of the script and decoding.
	key := memoKey{room: room, from: floorMs(from), to: ceilMs(to)}
	vs, err := g.rdb.HMGet(ctx, k.meta, "ver", "lid").Result()
	if err != nil {
		return nil, fmt.Errorf("busy %s: %w", room, classify(ctx, err))
	}
	ver := version(vs[0], vs[1])
	if ver != "" {
		if out, ok := g.memo.get(key, ver); ok {
			return out, nil
		}
	}
	keys := []string{k.meta, k.busy, k.long, k.holds, k.holdexp, k.holdm, k.hmax}
	res, err := g.run(ctx, busyScript, keys, []any{floorMs(from), ceilMs(to)})
	if err != nil {
		return nil, fmt.Errorf("busy %s: %w", room, err)
	}
	if res[0] == "NOSTATE" {
		return nil, fmt.Errorf("busy %s: %w", room, booking.ErrNoState)
	}
	out := make([]booking.Busy, 0, len(res)-2)
	defer func() {
		// An answer with live holds is not memoised: a hold expires
		// without a script running, so no version would say it is gone.
		if n, _ := res[1].(int64); ver != "" && int(n) == len(res)-2 && len(out) == len(res)-2 {
			g.memo.put(key, ver, out)
		}
	}()
	for _, v := range res[2:] {
		m, _ := v.(string)
		b, err := decode(m)
		if err != nil {
			return nil, fmt.Errorf("busy %s: %w", room, err)
		}
		out = append(out, b)
	}
	booking.SortBusy(out)
	return out, nil
}

// busyMemo keeps decoded Busy answers by room, range and room version.
// It is a memo, not state: every use checks the version in Redis first,
// so an answer is reused only while the room is exactly as it was.
type busyMemo struct {
	mu sync.Mutex
	m  map[memoKey]memoEntry
}

type memoKey struct {
	room     string
	from, to int64
}

type memoEntry struct {
	ver  string
	busy []booking.Busy
}

// memoSize bounds the memo; past it, it starts again empty.
const memoSize = 4096

func (m *busyMemo) get(k memoKey, ver string) ([]booking.Busy, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[k]
	if !ok || e.ver != ver {
		return nil, false
	}
	return append([]booking.Busy(nil), e.busy...), true
}

func (m *busyMemo) put(k memoKey, ver string, busy []booking.Busy) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= memoSize {
		m.m = make(map[memoKey]memoEntry)
	}
	m.m[k] = memoEntry{ver: ver, busy: append([]booking.Busy(nil), busy...)}
}

// Token implements booking.Gate.
func (g *Gate) Token(ctx context.Context, room string) (string, error) {
	v, err := g.rdb.HMGet(ctx, g.keys(room).meta, "v", "token").Result()
	if err != nil {
		return "", fmt.Errorf("token %s: %w", room, classify(ctx, err))
	}
	if v[0] == nil {
		return "", fmt.Errorf("token %s: %w", room, booking.ErrNoState)
	}
	token, _ := v[1].(string)
	return token, nil
}

// Version implements booking.Gate: one HMGET. The version is meta's
// load id 'lid' and its 'ver', which Load starts at the server's clock in
// microseconds and every script that changes intervals or holds bumps.
func (g *Gate) Version(ctx context.Context, room string) (string, string, error) {
	v, err := g.rdb.HMGet(ctx, g.keys(room).meta, "v", "token", "ver", "lid").Result()
	if err != nil {
		return "", "", fmt.Errorf("version %s: %w", room, classify(ctx, err))
	}
	if v[0] == nil {
		return "", "", fmt.Errorf("version %s: %w", room, booking.ErrNoState)
	}
	token, _ := v[1].(string)
	return token, version(v[2], v[3]), nil
}

// Versions implements booking.Gate: one HMGET a room, pipelined (a
// Cluster client sends each node its rooms' share at once).
func (g *Gate) Versions(ctx context.Context, rooms []string) ([]booking.RoomVersion, error) {
	if len(rooms) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(rooms))
	_, err := g.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, room := range rooms {
			cmds[i] = p.HMGet(ctx, g.keys(room).meta, "v", "token", "ver", "lid")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("versions: %w", classify(ctx, err))
	}
	out := make([]booking.RoomVersion, len(rooms))
	for i, c := range cmds {
		v := c.Val()
		if len(v) != 4 || v[0] == nil {
			out[i].Err = fmt.Errorf("version %s: %w", rooms[i], booking.ErrNoState)
			continue
		}
		out[i].Token, _ = v[1].(string)
		out[i].Version = version(v[2], v[3])
	}
	return out, nil
}

// version is a room's version as Version answers it: meta's load id and
// counter, "" when the room has none.
func version(ver, lid any) string {
	v, _ := ver.(string)
	if v == "" {
		return ""
	}
	l, _ := lid.(string)
	return l + ":" + v
}

// Objects implements booking.Gate.
func (g *Gate) Objects(ctx context.Context, room string) (string, map[string]string, error) {
	k := g.keys(room)
	res, err := g.run(ctx, objectsScript, []string{k.meta, k.etags}, nil)
	if err != nil {
		return "", nil, fmt.Errorf("objects %s: %w", room, err)
	}
	if res[0] == "NOSTATE" {
		return "", nil, fmt.Errorf("objects %s: %w", room, booking.ErrNoState)
	}
	token, _ := res[1].(string)
	etags := make(map[string]string, (len(res)-2)/2)
	for i := 2; i+1 < len(res); i += 2 {
		ref, _ := res[i].(string)
		etag, _ := res[i+1].(string)
		etags[ref] = etag
	}
	return token, etags, nil
}

// Apply implements booking.Gate. Deletions are applied before puts; an
// empty token keeps the current one. A large Apply is written in chunks
// (see WithChunk), each atomic; the token is set by the last, so an Apply cut short leaves the old token
// and is redone whole by the next sync (every step is idempotent).
func (g *Gate) Apply(ctx context.Context, room, token string, put map[string]booking.ObjectState, deleted []string, expect map[string]string) error {
	if room == "" {
		return errors.New("apply: room is required")
	}
	for ref, o := range put {
		if err := o.Validate(ref); err != nil {
			return fmt.Errorf("apply %s: %w", room, err)
		}
	}
	k := g.keys(room)
	fence := func(ref string) string {
		if expect == nil {
			return "*"
		}
		if etag, ok := expect[ref]; ok {
			return "=" + etag
		}
		return "-"
	}
	chunks := g.chunks(put, fence)
	if len(chunks) == 0 {
		chunks = [][]any{nil}
	}
	for i, objs := range chunks {
		last := i == len(chunks)-1
		args := []any{flag(last && token != ""), token, 0}
		if i == 0 {
			args[2] = len(deleted)
			for _, ref := range deleted {
				args = append(args, ref, fence(ref))
			}
		}
		args = append(args, objs...)
		res, err := g.run(ctx, applyScript, k.state(), args)
		if err != nil {
			return fmt.Errorf("apply %s: %w", room, err)
		}
		if res[0] == "NOSTATE" {
			return fmt.Errorf("apply %s: %w", room, booking.ErrNoState)
		}
	}
	return nil
}

// loadAttempts is how many times Load starts again when its staging keys
// vanish under it (a flush in the middle of a chunked Load).
const loadAttempts = 3

// Load implements booking.Gate. A large snapshot is written in chunks
// (see WithChunk) into staging keys; the last chunk swaps them in with
// the state marker in one step, so the room never looks loaded with part
// of its snapshot. Live holds are kept.
func (g *Gate) Load(ctx context.Context, room string, snap booking.Snapshot) error {
	if room == "" {
		return errors.New("load: room is required")
	}
	for ref, o := range snap.Objects {
		if err := o.Validate(ref); err != nil {
			return fmt.Errorf("load %s: %w", room, err)
		}
	}
	chunks := g.chunks(snap.Objects, nil)
	if len(chunks) == 0 {
		chunks = [][]any{nil}
	}
	var err error
	for range loadAttempts {
		if err = g.load(ctx, room, snap, chunks); !errors.Is(err, errInterrupted) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", room, err)
	}
	return nil
}

var errInterrupted = fmt.Errorf("staging keys vanished during a chunked load (state flushed meanwhile): %w", booking.ErrUnavailable)

// load runs the chunks of one Load attempt under a fresh load id.
func (g *Gate) load(ctx context.Context, room string, snap booking.Snapshot, chunks [][]any) error {
	k := g.keys(room)
	loadID := randomID()
	keys := append(append(k.state(), k.staging(loadID)...), k.lockKey)
	for i, objs := range chunks {
		args := append([]any{snap.Token, i + 1, flag(i == len(chunks)-1), ms(stagingTTL), snap.Lease, loadID, flag(snap.Retired)}, objs...)
		res, err := g.run(ctx, loadScript, keys, args)
		if err != nil {
			return err
		}
		switch res[0] {
		case "INTERRUPTED":
			return errInterrupted
		case "LEASE":
			return booking.ErrLeaseLost
		}
	}
	return nil
}

// chunks encodes objects as "ref etag n member..." argument runs, cut
// into chunks of about g.chunk members (never splitting an object), in
// ref order.
func (g *Gate) chunks(objs map[string]booking.ObjectState, fence func(string) string) [][]any {
	refs := make([]string, 0, len(objs))
	for ref := range objs {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	var out [][]any
	var cur []any
	n := 0
	for _, ref := range refs {
		o := objs[ref]
		if n > 0 && n+len(o.Busy) > g.chunk {
			out = append(out, cur)
			cur, n = nil, 0
		}
		if fence != nil {
			cur = append(cur, ref, fence(ref), o.ETag, len(o.Busy))
		} else {
			cur = append(cur, ref, o.ETag, len(o.Busy))
		}
		for _, b := range o.Busy {
			b.Ref = ref
			cur = append(cur, encode(b))
		}
		n += len(o.Busy) + 1
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// Lock implements booking.Gate with SET NX PX and a random token; unlock
// deletes the key only if it still holds that token (the lock may have
// expired and been taken by another). unlock runs with its own 5s
// timeout, tries again while Redis is unavailable (a failover), and
// ignores errors: at worst the lock expires after ttl.
func (g *Gate) Lock(ctx context.Context, room string, ttl time.Duration) (booking.Lease, bool, error) {
	if room == "" || ttl < time.Millisecond {
		return booking.Lease{}, false, fmt.Errorf("lock %s: need a room and a ttl of at least 1ms", room)
	}
	return g.lock(ctx, g.keys(room).lockKey, room, ttl)
}

// LockObject implements booking.Gate as Lock does, on the key
// P{room:ID}:lock:REF (the room's slot: one Redis node decides).
func (g *Gate) LockObject(ctx context.Context, room, ref string, ttl time.Duration) (booking.Lease, bool, error) {
	if room == "" || ref == "" || ttl < time.Millisecond {
		return booking.Lease{}, false, fmt.Errorf("lock %s/%s: need a room, an object and a ttl of at least 1ms", room, ref)
	}
	return g.lock(ctx, g.keys(room).lockKey+":"+ref, room+"/"+ref, ttl)
}

// lock takes key for ttl with SET NX PX and a random token.
func (g *Gate) lock(ctx context.Context, key, what string, ttl time.Duration) (booking.Lease, bool, error) {
	token := randomID()
	ok, err := g.rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return booking.Lease{}, false, fmt.Errorf("lock %s: %w", what, classify(ctx, err))
	}
	if !ok {
		return booking.Lease{}, false, nil
	}
	return g.lease(key, token), true, nil
}

// Watch implements booking.Gate: the notices of the room's tag, which
// load.lua (a state installed) and unlock.lua (the refresh lock released)
// publish.
func (g *Gate) Watch(room string) booking.Watch { return g.notes.watch(g.keys(room).notice) }

// Close ends the Gate's subscription to notices, if Watch started one.
// The client is the caller's to close.
func (g *Gate) Close() { g.notes.close() }

// run runs a script whose answer is a table starting with a status word
// (with g.eval: see WithReplicaAck).
func (g *Gate) run(ctx context.Context, s *redis.Script, keys []string, args []any) ([]any, error) {
	v, err := g.eval(ctx, s, keys, args)
	if err != nil {
		return nil, err
	}
	res, ok := v.([]any)
	if !ok || len(res) == 0 {
		return nil, fmt.Errorf("unexpected script answer %T %v", v, v)
	}
	return res, nil
}

// transient are the error replies of a Redis that is there but cannot
// serve now.
var transient = []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY", "OOM", "NOREPLICAS"}

// classify marks err as ErrUnavailable unless it is ctx's own error or a
// reply error that says the request itself is wrong.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		for _, p := range transient {
			if redis.HasErrorPrefix(err, p) {
				return fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
		}
		return fmt.Errorf("redis: %w", err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// member is the JSON part of a stored interval.
type member struct {
	R string `json:"r"`
	K string `json:"k,omitempty"`
	T string `json:"t,omitempty"`
	P bool   `json:"p,omitempty"` // before o: lib.lua reads o as the last field
	C bool   `json:"c,omitempty"`
	X bool   `json:"x,omitempty"`
	O string `json:"o,omitempty"`
}

// encode writes b as a member: "START|END|JSON". Sub-millisecond parts
// are widened outward (start down, end up).
func encode(b booking.Busy) string {
	j, _ := json.Marshal(member{R: b.Ref, K: string(b.Kind), T: b.Title, P: b.Pending, C: b.CheckedIn, X: b.Released, O: b.Organizer})
	return strconv.FormatInt(floorMs(b.Start), 10) + "|" + strconv.FormatInt(ceilMs(b.End), 10) + "|" + string(j)
}

func decode(m string) (booking.Busy, error) {
	parts := strings.SplitN(m, "|", 3)
	if len(parts) != 3 {
		return booking.Busy{}, fmt.Errorf("bad member %q", m)
	}
	s, err1 := strconv.ParseInt(parts[0], 10, 64)
	e, err2 := strconv.ParseInt(parts[1], 10, 64)
	var j member
	err3 := json.Unmarshal([]byte(parts[2]), &j)
	if err := errors.Join(err1, err2, err3); err != nil {
		return booking.Busy{}, fmt.Errorf("bad member %q: %w", m, err)
	}
	return booking.Busy{
		Ref: j.R, Kind: booking.Kind(j.K), Title: j.T, Organizer: j.O, Pending: j.P, CheckedIn: j.C, Released: j.X,
		Start: time.UnixMilli(s).UTC(), End: time.UnixMilli(e).UTC(),
	}, nil
}

func floorMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).After(t) {
		ms--
	}
	return ms
}

func ceilMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// ms is a duration in whole milliseconds, rounded up.
func ms(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// lease is the holding token of the lock key.
func (g *Gate) lease(key, token string) booking.Lease {
	return booking.Lease{ID: token, Release: g.unlocker(key, token), Extend: g.extender(key, token)}
}

// extender pushes the lock key's expiry out while token holds it.
func (g *Gate) extender(key, token string) func(ctx context.Context, ttl time.Duration) (bool, error) {
	return func(ctx context.Context, ttl time.Duration) (bool, error) {
		if ttl < time.Millisecond {
			return false, fmt.Errorf("extend %s: a ttl of at least 1ms", key)
		}
		res, err := g.eval(ctx, extendScript, []string{key}, []any{token, ttl.Milliseconds()})
		if err != nil {
			return false, fmt.Errorf("extend %s: %w", key, err)
		}
		n, _ := res.(int64)
		return n == 1, nil
	}
}
