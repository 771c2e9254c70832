package redisgate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

func internalGate(t *testing.T, opts ...Option) (*Gate, redis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := "t" + testenv.RandomID() + ":"
	t.Cleanup(func() {
		keys, _ := c.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
		_ = c.Close()
	})
	return New(c, append([]Option{WithPrefix(prefix)}, opts...)...), c
}

var t0 = time.Date(2031, 1, 6, 10, 0, 0, 0, time.UTC)

func objects(n int, etag string, day int) map[string]booking.ObjectState {
	objs := map[string]booking.ObjectState{}
	for i := range n {
		s := t0.AddDate(0, 0, day).Add(time.Duration(i) * time.Hour)
		objs[fmt.Sprintf("o%02d", i)] = booking.ObjectState{ETag: etag, Busy: []booking.Busy{{Start: s, End: s.Add(30 * time.Minute)}}}
	}
	return objs
}

// runChunk runs chunk seq (from 1) of a load as Load would.
func runChunk(t *testing.T, g *Gate, room, loadID, token string, chunks [][]any, seq int) string {
	t.Helper()
	k := g.keys(room)
	args := append([]any{token, seq, flag(seq == len(chunks)), ms(stagingTTL), "", loadID, "0"}, chunks[seq-1]...)
	res, err := g.run(context.Background(), loadScript, append(append(k.state(), k.staging(loadID)...), k.lockKey), args)
	if err != nil {
		t.Fatal(err)
	}
	return res[0].(string)
}

// Until its last chunk is in, a chunked Load is invisible: a new room
// has no state, a loaded room keeps its previous state; live holds
// survive it.
func TestChunkedLoadIsAtomic(t *testing.T) {
	g, _ := internalGate(t, WithChunk(2))
	ctx := context.Background()
	newObjs := objects(7, "new", 1)
	chunks := g.chunks(newObjs, nil)
	if len(chunks) < 3 {
		t.Fatalf("%d chunks, want several", len(chunks))
	}
	cases := []struct {
		name   string
		before func(room string) // state before the load
		want   error             // Token while the load is under way
		token  string
	}{
		{"new room", func(string) {}, booking.ErrNoState, ""},
		{"loaded room", func(room string) {
			if err := g.Load(ctx, room, booking.Snapshot{Token: "old", Objects: objects(3, "old", 0)}); err != nil {
				t.Fatal(err)
			}
			if err := g.Claim(ctx, room, booking.Claim{HoldID: "h", TTL: time.Minute,
				Intervals: []booking.Busy{{Start: t0.AddDate(0, 0, 5), End: t0.AddDate(0, 0, 5).Add(time.Hour)}}}); err != nil {
				t.Fatal(err)
			}
		}, nil, "old"},
	}
	for _, tc := range cases {
		room := "r" + testenv.RandomID()
		tc.before(room)
		loadID := randomID()
		for seq := 1; seq < len(chunks); seq++ {
			if got := runChunk(t, g, room, loadID, "new", chunks, seq); got != "OK" {
				t.Fatalf("%s: chunk %d: %s", tc.name, seq, got)
			}
			tok, err := g.Token(ctx, room)
			if !errors.Is(err, tc.want) || tok != tc.token {
				t.Errorf("%s: after chunk %d: Token = %q, %v; want %q, %v", tc.name, seq, tok, err, tc.token, tc.want)
			}
		}
		if got := runChunk(t, g, room, loadID, "new", chunks, len(chunks)); got != "OK" {
			t.Fatalf("%s: last chunk: %s", tc.name, got)
		}
		tok, etags, err := g.Objects(ctx, room)
		if err != nil || tok != "new" || len(etags) != 7 || etags["o00"] != "new" {
			t.Errorf("%s: after the load: %q %v %v", tc.name, tok, etags, err)
		}
		bs, err := g.Busy(ctx, room, t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 7))
		if err != nil {
			t.Fatal(err)
		}
		wantN := 7
		if tc.token == "old" {
			wantN = 8 // and the hold
		}
		if len(bs) != wantN {
			t.Errorf("%s: Busy lists %d, want %d", tc.name, len(bs), wantN)
		}
	}
}

// A chunk whose predecessors vanished (a flush mid-load, or staging keys
// expired) is refused, and Load starts again.
func TestChunkedLoadInterrupted(t *testing.T) {
	g, c := internalGate(t, WithChunk(2))
	ctx := context.Background()
	room := "r" + testenv.RandomID()
	chunks := g.chunks(objects(7, "e", 1), nil)
	loadID := randomID()
	if got := runChunk(t, g, room, loadID, "tok", chunks, 1); got != "OK" {
		t.Fatal(got)
	}
	if err := c.Del(ctx, g.keys(room).staging(loadID)...).Err(); err != nil {
		t.Fatal(err)
	}
	if got := runChunk(t, g, room, loadID, "tok", chunks, 2); got != "INTERRUPTED" {
		t.Errorf("chunk after the staging keys vanished: %s, want INTERRUPTED", got)
	}
	if _, err := g.Token(ctx, room); !errors.Is(err, booking.ErrNoState) {
		t.Errorf("Token after an interrupted load: %v", err)
	}
	// Abandoned staging keys expire.
	loadID = randomID()
	runChunk(t, g, room, loadID, "tok", chunks, 1)
	ttl, err := c.PTTL(ctx, g.keys(room).staging(loadID)[1]).Result()
	if err != nil || ttl <= 0 || ttl > stagingTTL {
		t.Errorf("staging key TTL = %v, %v; want in (0, %v]", ttl, err, stagingTTL)
	}
	// A whole Load succeeds, and leaves no staging key and no expiry.
	if err := g.Load(ctx, room, booking.Snapshot{Token: "tok", Objects: objects(7, "e", 1)}); err != nil {
		t.Fatal(err)
	}
	staged, err := c.Keys(ctx, g.keys(room).tag+":load:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range staged {
		if !strings.Contains(k, ":load:"+loadID+":") { // the abandoned one expires by itself
			t.Errorf("staging key %s left by a finished Load", k)
		}
	}
	for _, k := range g.keys(room).state() {
		// -1: no expiry; -2: no such key (no interval longer than a day).
		if ttl, err := c.PTTL(ctx, k).Result(); err != nil || (ttl != -1 && ttl != -2) {
			t.Errorf("%s: PTTL %v %v, want no expiry", k, ttl, err)
		}
	}
}

// Members keep every field, whatever the bytes, and times round outward
// to the millisecond.
func TestMemberRoundTrip(t *testing.T) {
	cases := []booking.Busy{
		{Ref: "a|b\nc", Kind: booking.KindExternal, Title: "x|y|z \"q\" \\ \u2028 日本 🎉", Organizer: "o|1",
			Start: t0, End: t0.Add(time.Hour)},
		{Ref: "r", Kind: booking.KindHold, Start: t0.Add(-time.Hour * 24 * 365 * 70), End: t0.AddDate(7000, 0, 0)},
	}
	for _, b := range cases {
		m := encode(b)
		got, err := decode(m)
		if err != nil {
			t.Fatalf("decode(%q): %v", m, err)
		}
		if got.Ref != b.Ref || got.Kind != b.Kind || got.Title != b.Title || got.Organizer != b.Organizer ||
			!got.Start.Equal(b.Start) || !got.End.Equal(b.End) {
			t.Errorf("round trip of %+v gave %+v", b, got)
		}
		for i := 0; i < len(m); i++ {
			if m[i] == '\n' {
				t.Errorf("member %q holds a raw newline", m)
			}
		}
	}
	sub := booking.Busy{Start: t0.Add(1500 * time.Microsecond), End: t0.Add(2500 * time.Microsecond)}
	got, _ := decode(encode(sub))
	if !got.Start.Equal(t0.Add(time.Millisecond)) || !got.End.Equal(t0.Add(3*time.Millisecond)) {
		t.Errorf("sub-ms interval stored as [%v, %v), want widened to whole ms", got.Start, got.End)
	}
}
