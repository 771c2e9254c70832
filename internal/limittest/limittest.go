// Package limittest is the contract suite of the rate limiters (the
// api.Limiter implementations): internal/redisgate's Limiter passes it on
// the embedded engine, a Redis and a Redis Cluster, so the embedded
// default and a Redis deployment limit alike.
//
// An implementation's test calls Run with a function that makes a fresh
// Target for one subtest:
//
//	func TestLimiterContract(t *testing.T) {
//		limittest.Run(t, func(t *testing.T) limittest.Target {
//			e := gatetest.Embedded(t)
//			l := redisgate.NewLimiter(e.Client())
//			return limittest.Target{Limiter: l, Flush: func(*testing.T) { e.FlushAll() }, Elapse: clock.Advance}
//		})
//	}
//
// Subtests run in parallel, each on its own Target with random keys, so
// Targets may share one server as long as Flush only drops what that
// Target counted.
package limittest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/testenv"
)

// Limiter is api.Limiter (restated here so the suite does not depend on
// the HTTP layer).
type Limiter interface {
	Allow(ctx context.Context, key string, n int, per time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Target is one limiter under test and the hooks the suite needs.
type Target struct {
	// Limiter is the implementation under test.
	Limiter Limiter
	// Replica, if set, is another Limiter sharing Limiter's counts (a
	// second replica: another client of the same Redis). The suite
	// checks that they share them.
	Replica Limiter
	// Flush, if set, drops every count this Target's Limiter knows.
	Flush func(t *testing.T)
	// Elapse lets at least d pass on the Limiter's clock: a fake clock
	// advances, a real one sleeps. The suite never asserts how long
	// anything took.
	Elapse func(t *testing.T, d time.Duration)
	// Short is the window length the suite waits out (default 1s): long
	// enough for a few calls to fall in one window of a real clock.
	Short time.Duration
}

// Long is the window length of the tests that must not see a window end.
const Long = time.Minute

// Run runs the whole contract suite; newTarget is called once per
// subtest.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	run(t, newTarget, true)
}

// RunSingle runs the suite but for the test of two replicas sharing a
// count, for a limiter that lives in one process (Target.Replica nil).
func RunSingle(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	run(t, newTarget, false)
}

func run(t *testing.T, newTarget func(t *testing.T) Target, replicas bool) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Target)
	}{
		{"LimitThenRefuse", testLimitThenRefuse},
		{"NewWindow", testNewWindow},
		{"RetryAfterShrinks", testRetryAfterShrinks},
		{"KeysIndependent", testKeysIndependent},
		{"OddKeys", testOddKeys},
		{"PeriodsApart", testPeriodsApart},
		{"Concurrent", testConcurrent},
		{"Replicas", testReplicas},
		{"Flush", testFlush},
		{"Invalid", testInvalid},
	}
	for _, tt := range tests {
		if tt.name == "Replicas" && !replicas {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			if tt.name == "Replicas" && tg.Replica == nil {
				// Run's caller says whether it has a second client
				// sharing the counts; RunSingle leaves this case out.
				t.Fatal("Target.Replica is required (use RunSingle for a target without one)")
			}
			if tt.name == "Flush" && tg.Flush == nil {
				t.Fatal("Target.Flush is required")
			}
			if tg.Short == 0 {
				tg.Short = time.Second
			}
			tt.fn(t, tg)
		})
	}
}

// key returns a random key for one test.
func key(name string) string { return "lt-" + name + "-" + testenv.RandomID() }

// allow calls l.Allow and fails the test on an error.
func allow(t *testing.T, l Limiter, key string, n int, per time.Duration) (bool, time.Duration) {
	t.Helper()
	ok, ra, err := l.Allow(context.Background(), key, n, per)
	if err != nil {
		t.Fatalf("Allow(%q, %d, %v): %v", key, n, per, err)
	}
	if ok && ra != 0 {
		t.Errorf("Allow(%q) allowed with retryAfter %v, want 0", key, ra)
	}
	return ok, ra
}

// exhaust expects n events of key allowed, then one refused, whose
// retryAfter it checks and returns.
func exhaust(t *testing.T, l Limiter, key string, n int, per time.Duration) time.Duration {
	t.Helper()
	for i := 1; i <= n; i++ {
		if ok, _ := allow(t, l, key, n, per); !ok {
			t.Fatalf("event %d of %d for %q refused", i, n, key)
		}
	}
	return refused(t, l, key, n, per)
}

// refused expects the next event of key refused with 0 < retryAfter <= per.
func refused(t *testing.T, l Limiter, key string, n int, per time.Duration) time.Duration {
	t.Helper()
	ok, ra := allow(t, l, key, n, per)
	if ok {
		t.Fatalf("event over the limit of %d for %q allowed", n, key)
	}
	if ra <= 0 || ra > per {
		t.Fatalf("retryAfter %v for %q, want in (0, %v]", ra, key, per)
	}
	return ra
}

func testLimitThenRefuse(t *testing.T, tg Target) {
	k := key("refuse")
	exhaust(t, tg.Limiter, k, 3, Long)
	// Refused events do not open a new window: still refused.
	for i := 0; i < 3; i++ {
		refused(t, tg.Limiter, k, 3, Long)
	}
}

func testNewWindow(t *testing.T, tg Target) {
	k, per := key("window"), tg.Short
	ra := exhaust(t, tg.Limiter, k, 2, per)
	tg.Elapse(t, ra)
	// The window has ended: a new one allows n again. A real clock may
	// need a moment more (a server's expiry is to the millisecond).
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ok, _ := allow(t, tg.Limiter, k, 2, per); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused %v after the window's retryAfter %v", 5*time.Second, ra)
		}
		tg.Elapse(t, 10*time.Millisecond)
	}
	if ok, _ := allow(t, tg.Limiter, k, 2, per); !ok {
		t.Fatal("second event of the new window refused")
	}
	refused(t, tg.Limiter, k, 2, per)
}

func testRetryAfterShrinks(t *testing.T, tg Target) {
	per := tg.Short
	// A fresh key starts its window at its first event, so retryAfter is
	// close to per unless the machine stalled; then try a new key.
	var k string
	var ra1 time.Duration
	for attempt := 0; ; attempt++ {
		k = key("shrink")
		if ra1 = exhaust(t, tg.Limiter, k, 1, per); ra1 > per/4 {
			break
		}
		if attempt == 4 {
			t.Fatalf("retryAfter %v of a %v window right after its first event, five times", ra1, per)
		}
	}
	tg.Elapse(t, per/4)
	ok, ra2 := allow(t, tg.Limiter, k, 1, per)
	if ok {
		t.Fatalf("allowed again after %v of a %v window", per/4, per)
	}
	if ra2 <= 0 || ra2 >= ra1 {
		t.Fatalf("retryAfter went from %v to %v after %v, want it smaller and positive", ra1, ra2, per/4)
	}
}

func testKeysIndependent(t *testing.T, tg Target) {
	a, b := key("a"), key("b")
	exhaust(t, tg.Limiter, a, 2, Long)
	exhaust(t, tg.Limiter, b, 2, Long)
	refused(t, tg.Limiter, a, 2, Long)
}

// Keys are member ids, which may hold anything: braces (which make
// Redis hash tags), escapes, separators. Each counts apart.
func testOddKeys(t *testing.T, tg Target) {
	id := testenv.RandomID()
	keys := []string{
		"a}b" + id, "a%7Db" + id, "a%257Db" + id, "{a}b" + id, "%7Ba%7Db" + id,
		"a:b" + id, "a" + id + ":60000", "a" + id, "é ü\n\t" + id, "}" + id, "{" + id, "{}" + id,
	}
	for _, k := range keys {
		exhaust(t, tg.Limiter, k, 1, Long)
	}
}

// A limit with another window length counts apart (a configuration
// changed while replicas roll over does not mix the two).
func testPeriodsApart(t *testing.T, tg Target) {
	k := key("periods")
	exhaust(t, tg.Limiter, k, 1, Long)
	exhaust(t, tg.Limiter, k, 1, 2*Long)
}

func testConcurrent(t *testing.T, tg Target) {
	k := key("concurrent")
	const goroutines, n = 100, 10
	got := race(t, []Limiter{tg.Limiter}, k, goroutines, n)
	if got != n {
		t.Fatalf("%d of %d concurrent events allowed, want exactly %d", got, goroutines, n)
	}
	refused(t, tg.Limiter, k, n, Long)
}

// race runs goroutines concurrent events of key, spread over ls, and
// returns how many were allowed.
func race(t *testing.T, ls []Limiter, k string, goroutines, n int) int {
	t.Helper()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, goroutines)
	for i := 0; i < goroutines; i++ {
		l := ls[i%len(ls)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, _, err := l.Allow(context.Background(), k, n, Long)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Allow: %v", err)
	}
	return int(allowed.Load())
}

func testReplicas(t *testing.T, tg Target) {
	// Alternating between replicas: one count.
	k := key("replicas")
	ls := []Limiter{tg.Limiter, tg.Replica}
	for i := 0; i < 4; i++ {
		if ok, _ := allow(t, ls[i%2], k, 4, Long); !ok {
			t.Fatalf("event %d of 4 refused on replica %d", i+1, i%2)
		}
	}
	refused(t, tg.Limiter, k, 4, Long)
	refused(t, tg.Replica, k, 4, Long)
	// Concurrently on both: still exactly n.
	k = key("replicas-race")
	if got := race(t, ls, k, 100, 10); got != 10 {
		t.Fatalf("%d of 100 concurrent events on two replicas allowed, want exactly 10", got)
	}
}

func testFlush(t *testing.T, tg Target) {
	k := key("flush")
	exhaust(t, tg.Limiter, k, 2, Long)
	tg.Flush(t)
	exhaust(t, tg.Limiter, k, 2, Long)
}

func testInvalid(t *testing.T, tg Target) {
	ctx := context.Background()
	for _, c := range []struct {
		key string
		n   int
		per time.Duration
	}{
		{"", 1, Long}, {key("n0"), 0, Long}, {key("nneg"), -1, Long}, {key("per0"), 1, 0}, {key("perneg"), 1, -time.Second},
	} {
		if ok, _, err := tg.Limiter.Allow(ctx, c.key, c.n, c.per); err == nil {
			t.Errorf("Allow(%q, %d, %v) = %v, nil; want an error", c.key, c.n, c.per, ok)
		}
	}
}
