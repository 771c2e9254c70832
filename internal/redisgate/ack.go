package redisgate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replica acknowledgement: surviving a failover.
//
// Redis replicates asynchronously: a master answers a script as soon as it
// has run it, and sends its effect to its replicas afterwards. When the
// master dies and a replica is promoted in its place (a Redis Cluster
// failover, or a hosted Redis's), what the replica had not received yet
// is gone, while the rest of the room's or event's state is still there.
// That is worse than a flush: a flushed room has no state and is rebuilt
// from the calendar (booking.ErrNoState), but a room that lost only its
// last claim or commit looks whole, and another member gets the same
// slot; an event that lost a registration gives its seat again. Both
// were acknowledged: a double booking, an overbooked event.
//
// With WithReplicaAck(n, timeout), every script that changes state is
// sent to the master of its keys' slot on one connection, with INFO
// replication behind it in the same round trip; when the master has
// replicas connected, a write of the key KEY:ack (KEY the script's first
// key, so in its slot; it expires after ackKeyTTL) and WAIT n timeout
// follow on that connection: the decision counts once n replicas have
// it. WAIT waits for the connection's last write; the replication stream
// is in order, so a replica that has the KEY:ack write also has every
// decision the master took before it: the script's own and, when the
// script wrote nothing (a decision tried again finds it taken), the ones
// it answered by. A failover promotes a replica of the dead master, the
// one with the most of the stream first (Redis Cluster ranks candidates
// by replication offset), so with one replica a master, or n of them
// all, a decision acknowledged survives the loss of its master. Reads
// need no WAIT: a read may see a decision still waiting for its replicas
// and answer by it (a slot shown busy, a member put on the waiting list
// behind it); should that decision be lost, the answer was more cautious
// than it had to be, and no promise is broken.
//
// When fewer replicas acknowledge than asked, the master's replicas are
// counted as the cluster sees them (CLUSTER NODES): those it lists for
// the master and has not agreed are failed. A decision stands when the
// replicas that acknowledged are at least min(n, that count): a master
// left with no replica that could take its place (its replica failed, or
// it is itself a replica just promoted by a failover, its old master
// still down) keeps serving, as a single Redis does; if it dies too,
// its slots are down until it comes back empty (Redis must not persist
// roomcal's keys), which is a flush: rebuilt from the calendars. Outside
// a cluster the connected replicas are counted. Otherwise the caller
// gets a *ReplicaAckError, which matches ErrUnavailable (503 "try
// again"): the decision is in the master, but it was not acknowledged to
// anyone, so losing it breaks no promise; a caller that tries again gets
// the same answer (every script may run twice, see the package
// documentation).
//
// What this does not cover: a replica the cluster had agreed failed
// (unreachable for the node timeout) that comes back, and is promoted
// because its master dies before it has caught up (a partial resync,
// milliseconds); and a Redis that persists its data and restarts with
// part of it (AOF or RDB): roomcal's Redis keeps nothing on disk.

// DefaultReplicaAckTimeout is the WAIT timeout of WithReplicaAck when it is
// given none: a replica on the same network acknowledges within a
// millisecond; one that takes longer is lagging or gone.
const DefaultReplicaAckTimeout = 500 * time.Millisecond

// WithReplicaAck makes every script that changes state (claim, commit,
// apply, load; every event decision, written, rollback, load and drop;
// the events index's writes) count only once n replicas of the master
// that ran it have acknowledged it, waiting at most timeout
// (DefaultReplicaAckTimeout when 0): see "Replica acknowledgement" in
// ack.go for what happens when they do not. Releasing a lock waits too.
// Reads, taking a lock (a lock lost in a failover lets two writers in,
// whom the calendar's conditional writes keep apart), releasing a hold (a
// lost release only keeps it until it expires) and rate-limit counts do
// not. n < 1 turns it off (the default). It needs a
// *redis.ClusterClient or a *redis.Client (the gate's scripts fail with
// an error otherwise).
func WithReplicaAck(n int, timeout time.Duration) Option {
	return func(g *Gate) {
		if n < 1 {
			g.ack.n = 0
			return
		}
		if timeout <= 0 {
			timeout = DefaultReplicaAckTimeout
		}
		g.ack.n, g.ack.timeout = n, timeout
	}
}

// replicaAck is a Gate's WithReplicaAck setting and counts.
type replicaAck struct {
	n       int
	timeout time.Duration

	replicated, alone, refused atomic.Uint64
}

// AckStats counts how the scripts that change state were answered since
// the Gate was made (all zero without WithReplicaAck).
type AckStats struct {
	// Replicated decisions were acknowledged by the replicas asked for.
	Replicated uint64
	// Alone decisions stood with fewer: no replica could take their
	// master's place.
	Alone uint64
	// Refused decisions were answered with a *ReplicaAckError.
	Refused uint64
}

// AckStats returns the gate's counts.
func (g *Gate) AckStats() AckStats {
	return AckStats{Replicated: g.ack.replicated.Load(), Alone: g.ack.alone.Load(), Refused: g.ack.refused.Load()}
}

// AckStats returns the event gate's counts.
func (g *EventGate) AckStats() AckStats { return g.gate.AckStats() }

// ReplicaAckError says that a master took a decision that too few of its
// replicas acknowledged in time, while a replica that lacks it could take
// the master's place. It matches ErrUnavailable.
type ReplicaAckError struct {
	Node     string // the master's address
	Want     int    // replicas asked for
	Acked    int    // replicas that acknowledged
	Replicas int    // replicas that could take the master's place
	Timeout  time.Duration
}

func (e *ReplicaAckError) Error() string {
	return fmt.Sprintf("master %s: %d of its %d replicas acknowledged within %v, %d needed: a failover could lose the decision",
		e.Node, e.Acked, e.Replicas, e.Timeout, min(e.Want, e.Replicas))
}

// Unwrap makes it match ErrUnavailable (and booking.ErrUnavailable).
func (e *ReplicaAckError) Unwrap() error { return ErrUnavailable }

// changesState lists the scripts that WithReplicaAck waits for. A lock's
// release is one: a release lost in a failover would leave the lock to
// its ttl, the room or event unwritable meanwhile.
var changesState = map[*redis.Script]bool{
	claimScript: true, commitScript: true, applyScript: true, loadScript: true, unlockScript: true, extendScript: true, signOutScript: true, retireScript: true, takeBackScript: true,
	evRegisterScript: true, evUnregisterScript: true, evConfigureScript: true, evReconcileScript: true,
	evWrittenScript: true, evRollbackScript: true, evLoadScript: true, evDropScript: true,
	evIdxLoadScript: true, evIdxPutScript: true, evIdxTokenScript: true,
}

// ackKeyTTL is how long the KEY:ack write after an acknowledged script
// lives.
const ackKeyTTL = 10 * time.Second

// eval runs a script and returns its answer, errors classified: with
// WithReplicaAck, a script that changes state goes through runAcked.
func (g *Gate) eval(ctx context.Context, s *redis.Script, keys []string, args []any) (any, error) {
	if g.ack.n > 0 && changesState[s] {
		return g.runAcked(ctx, s, keys, args)
	}
	v, err := s.Run(ctx, g.rdb, keys, args...).Result()
	if err != nil {
		var rerr redis.Error
		if ctx.Err() == nil && !errors.As(err, &rerr) {
			// The node could not be reached: a failover may be under
			// way. Have a cluster client's slot map reloaded.
			g.reloadLater(ctx)
		}
		return nil, classify(ctx, err)
	}
	return v, nil
}

// movedRetries bounds how often a script answered MOVED (its slot moved,
// and the client's slot map is behind) is sent again.
const movedRetries = 3

// runAcked runs a script that changes state on its keys' master and waits
// for its replicas (see WithReplicaAck). Errors are classified.
func (g *Gate) runAcked(ctx context.Context, s *redis.Script, keys []string, args []any) (any, error) {
	var err error
	for range movedRetries + 1 {
		var node *redis.Client
		node, err = g.masterFor(ctx, keys[0])
		if err != nil {
			return nil, classify(ctx, err)
		}
		var v any
		v, err = g.runOn(ctx, node, s, keys, args)
		if err == nil {
			return v, nil
		}
		var aerr *ReplicaAckError
		var rerr redis.Error
		switch {
		case errors.As(err, &aerr):
			return nil, err
		case redis.HasErrorPrefix(err, "MOVED"):
			// A failover (or a resharding) moved the slot: the script did
			// not run. Reload the slot map now and send it again.
			g.reloadSlots(ctx)
			continue
		case redis.HasErrorPrefix(err, "ASK"):
			// The slot is being migrated: try again later.
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		case !errors.As(err, &rerr):
			// The master could not be reached: a failover may be under
			// way. Have the slot map reloaded for the next call.
			g.reloadLater(ctx)
		}
		return nil, classify(ctx, err)
	}
	return nil, fmt.Errorf("%w: slot moved %d times: %w", ErrUnavailable, movedRetries+1, err)
}

// masterFor returns the client of the master that serves key.
func (g *Gate) masterFor(ctx context.Context, key string) (*redis.Client, error) {
	switch c := g.rdb.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Client:
		return c, nil
	}
	return nil, fmt.Errorf("replica acknowledgement needs a *redis.Client or *redis.ClusterClient, not %T", g.rdb)
}

// reloadSlots reloads a cluster client's slot map and waits for it:
// ForEachMaster reloads it (CLUSTER SLOTS) before it starts.
func (g *Gate) reloadSlots(ctx context.Context) {
	if c, ok := g.rdb.(*redis.ClusterClient); ok {
		_ = c.ForEachMaster(ctx, func(context.Context, *redis.Client) error { return nil })
	}
}

// reloadLater has a cluster client's slot map reloaded in the background.
func (g *Gate) reloadLater(ctx context.Context) {
	if c, ok := g.rdb.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
}

// runOn runs the script on node and waits for its replicas, on one
// connection (WAIT counts the writes of its own connection).
func (g *Gate) runOn(ctx context.Context, node *redis.Client, s *redis.Script, keys []string, args []any) (any, error) {
	conn := node.Conn()
	defer conn.Close()
	v, info, err := evalWithInfo(ctx, conn, s, keys, args, false)
	if redis.HasErrorPrefix(err, "NOSCRIPT") {
		v, info, err = evalWithInfo(ctx, conn, s, keys, args, true)
	}
	if err != nil {
		return nil, err
	}
	connected := int(infoNumber(info, "connected_slaves"))
	acked := 0
	if connected > 0 {
		n, err := g.syncAndWait(ctx, conn, node, keys[0]+":ack")
		if err != nil {
			return nil, fmt.Errorf("wait for %d replicas of %s: %w", g.ack.n, node.Options().Addr, err)
		}
		acked = n
		if acked >= g.ack.n {
			g.ack.replicated.Add(1)
			return v, nil
		}
	}
	standby, err := g.promotable(ctx, conn, connected)
	if err != nil {
		return nil, fmt.Errorf("replicas of %s: %w", node.Options().Addr, err)
	}
	if acked >= min(g.ack.n, standby) {
		g.ack.alone.Add(1)
		return v, nil
	}
	g.ack.refused.Add(1)
	return nil, &ReplicaAckError{Node: node.Options().Addr, Want: g.ack.n, Acked: acked, Replicas: standby, Timeout: g.ack.timeout}
}

// evalWithInfo sends the script (EVALSHA, or EVAL when whole) and INFO
// replication in one round trip.
func evalWithInfo(ctx context.Context, conn *redis.Conn, s *redis.Script, keys []string, args []any, whole bool) (any, string, error) {
	var eval *redis.Cmd
	var info *redis.StringCmd
	_, _ = conn.Pipelined(ctx, func(p redis.Pipeliner) error {
		if whole {
			eval = s.Eval(ctx, p, keys, args...)
		} else {
			eval = s.EvalSha(ctx, p, keys, args...)
		}
		info = p.Info(ctx, "replication")
		return nil
	})
	if err := eval.Err(); err != nil {
		return nil, "", err
	}
	if err := info.Err(); err != nil {
		return nil, "", fmt.Errorf("replication info: %w", err)
	}
	return eval.Val(), info.Val(), nil
}

// syncAndWait writes ackKey on conn and waits for the replicas to have it
// (WAIT), and returns how many do. The two go in one round trip when the
// WAIT ends well within the client's read timeout, which bounds a
// pipeline's answers; else one after the other (a lone WAIT gets its
// timeout and more).
func (g *Gate) syncAndWait(ctx context.Context, conn *redis.Conn, node *redis.Client, ackKey string) (int, error) {
	if rt := node.Options().ReadTimeout; rt > 0 && g.ack.timeout+250*time.Millisecond > rt {
		if err := conn.Set(ctx, ackKey, "1", ackKeyTTL).Err(); err != nil {
			return 0, err
		}
		n, err := conn.Wait(ctx, g.ack.n, g.ack.timeout).Result()
		return int(n), err
	}
	var set *redis.StatusCmd
	var wait *redis.Cmd
	_, _ = conn.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.Set(ctx, ackKey, "1", ackKeyTTL)
		wait = p.Do(ctx, "WAIT", g.ack.n, g.ack.timeout.Milliseconds())
		return nil
	})
	if err := set.Err(); err != nil {
		return 0, err
	}
	n, err := wait.Int64()
	return int(n), err
}

// promotable counts the replicas that could take the master's place: in a
// cluster, those CLUSTER NODES lists as the master's, unless the cluster
// agreed they failed (a replica the majority cannot reach cannot win an
// election); outside a cluster, the connected ones. A replica connected
// counts whatever the cluster says.
func (g *Gate) promotable(ctx context.Context, conn *redis.Conn, connected int) (int, error) {
	if _, ok := g.rdb.(*redis.ClusterClient); !ok {
		return connected, nil
	}
	text, err := conn.ClusterNodes(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("cluster nodes: %w", err)
	}
	nodes := parseClusterNodes(text)
	var me string
	for _, n := range nodes {
		if n.has("myself") {
			me = n.id
		}
	}
	count := 0
	for _, n := range nodes {
		if me != "" && n.master == me && (n.has("slave") || n.has("replica")) &&
			!n.has("fail") && !n.has("handshake") && !n.has("noaddr") {
			count++
		}
	}
	return max(count, connected), nil
}

// infoNumber reads the number of one "key:value" line of an INFO answer
// (0 when absent).
func infoNumber(info, key string) int64 {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), key+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// unlocker returns the Release of the lock key held with token: it deletes
// key only if it still holds token (with WithReplicaAck, once a replica
// has the deletion). While Redis is unavailable (a failover under way)
// it tries again, for up to unlockTimeout: a lock left behind would keep
// its room or event from being written by anyone until it expires.
// Other errors are ignored: at worst the lock expires after its ttl.
func (g *Gate) unlocker(key, token string) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
		defer cancel()
		for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
			_, err := g.eval(ctx, unlockScript, []string{key}, []any{token})
			if !errors.Is(err, ErrUnavailable) {
				return
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}
