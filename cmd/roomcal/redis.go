package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// redisOptions are the options of the gates on a configured Redis (one
// server or a Redis Cluster): every decision counts only once a replica
// of its master has it, so that a failover, which promotes a replica,
// loses no decision that was acknowledged (internal/redisgate/ack.go). A
// master without replicas (a single Redis, or a shard whose replica is
// gone) is not waited on: it costs an INFO in the same round trip.
func redisOptions() []redisgate.Option {
	return []redisgate.Option{redisgate.WithReplicaAck(1, redisgate.DefaultReplicaAckTimeout)}
}

// siteSlots groups each room's keys with its site's (redisgate.WithSlots),
// so that a quota counted over a site is checked by the claim script
// itself, on a Redis Cluster too. site names a room's site ("" for an
// unknown room, which keeps a slot of its own).
func siteSlots(site func(room string) string) redisgate.Option {
	return redisgate.WithSlots(site)
}

// siteLookup names each room's site for the gate's key slots: from the
// live catalog once serve has made it (so a room created or moved in the
// admin pages is grouped with its site's rooms, as a site quota needs),
// from the configuration before.
type siteLookup struct {
	cfg map[string]string
	cat atomic.Pointer[booking.Catalog]
}

// configSites starts a siteLookup on the rooms of cfg.
func configSites(cfg *config.Config) *siteLookup {
	l := &siteLookup{cfg: make(map[string]string, len(cfg.Rooms))}
	for _, r := range cfg.Rooms {
		l.cfg[r.ID] = r.SiteID
	}
	return l
}

// site is the site of room ("" for a room nobody knows).
func (l *siteLookup) site(room string) string {
	if c := l.cat.Load(); c != nil {
		if r, err := c.Room(room); err == nil {
			return r.SiteID
		}
	}
	return l.cfg[room]
}

// redisSummary says what roomcal's gates run on, for the start-up log:
// "embedded engine", "single node at HOST:PORT", or "cluster of N masters and
// M replicas (seeds …)".
func redisSummary(ctx context.Context, cfg *config.Config, d *deps) string {
	g, ok := d.gate.(*redisgate.Gate)
	if cfg.RedisURL == "" || !ok {
		return "embedded engine"
	}
	ctx, cancel := timeout(ctx)
	defer cancel()
	t, err := g.Describe(ctx)
	if err != nil {
		return fmt.Sprintf("configured (not described: %v)", err)
	}
	return t.String()
}

// checkRedis reports on the configured Redis for `roomcal check`: a single
// node answers, or how many of a cluster's masters and replicas answer.
// It fails when a master the cluster has not given up on does not answer
// (a replica down, or a failed master already replaced, leaves the
// service running).
func checkRedis(ctx context.Context, d *deps, say func(good bool, format string, args ...any)) {
	ctx, cancel := timeout(ctx)
	defer cancel()
	if err := d.pingGate(ctx); err != nil {
		say(false, "Redis does not answer: %v", err)
		return
	}
	g, ok := d.gate.(*redisgate.Gate)
	if !ok {
		say(true, "Redis answers")
		return
	}
	t, err := g.Describe(ctx)
	switch {
	case err != nil:
		say(false, "Redis answers, but its nodes cannot be listed: %v", err)
		return
	case !t.Cluster:
		say(true, "Redis single node answers (%s)", t.Addr)
		return
	}
	_, _, mastersUp, replicasUp := t.Count()
	healthy := true
	var down []string
	for _, n := range t.Nodes {
		if n.Answers {
			continue
		}
		role := "replica"
		if n.Master {
			role = "master"
			healthy = healthy && n.Failed
		}
		if n.Failed {
			role += ", failed"
		}
		down = append(down, n.Addr+" ("+role+")")
	}
	msg := fmt.Sprintf("Redis cluster: %d masters, %d replicas answer", mastersUp, replicasUp)
	if len(down) > 0 {
		msg += "; not answering: " + strings.Join(down, ", ")
	}
	say(healthy, "%s", msg)
}
