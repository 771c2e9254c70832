package redisgate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DialOption changes how Dial reads its URL.
type DialOption func(*dialOptions)

type dialOptions struct {
	cluster bool
}

// AsCluster(true) makes Dial take a URL that names a single node (no addr=
// parameters) as a seed node of a Redis Cluster (ROOMCAL_REDIS_CLUSTER):
// the client learns the other nodes from it. AsCluster(false) changes
// nothing.
func AsCluster(on bool) DialOption {
	return func(o *dialOptions) { o.cluster = o.cluster || on }
}

// Dial connects to the Redis that rawURL names and checks that it answers.
//
// A URL with addr= parameters, redis://[user:password@]h1:p1?addr=h2:p2&addr=h3:p3
// (rediss:// for TLS; read by redis.ParseClusterURL), or any URL when
// AsCluster(true) is given, names a Redis Cluster by some of its nodes (the
// seeds): Dial returns a *redis.ClusterClient, which learns every node and
// which owns which slot from them, and follows the slots as they move (a
// failover): its slot map is reloaded when a node answers MOVED, when a
// gate finds a master gone, and every 2s in any case. Dial checks that
// every master answers. A cluster has only database 0: a URL naming
// another is refused.
//
// Otherwise rawURL names one server, redis://[user:password@]host:port/db
// (rediss:// for TLS, unix://path; read by redis.ParseURL), and Dial
// returns a *redis.Client. A node of a Redis Cluster named so is refused,
// with a message saying to name it as a cluster: a single-node client
// would get MOVED for the slots the node does not own.
//
// Options such as dial_timeout may be given as query parameters, in both
// forms. Timeouts left unset default to 2s for dial, read and write and 3s
// to wait for a pooled connection. A Redis that does not answer gives an
// error matching ErrUnavailable; the client is closed then. No error
// shows the URL's password.
func Dial(ctx context.Context, rawURL string, opts ...DialOption) (redis.UniversalClient, error) {
	var o dialOptions
	for _, fn := range opts {
		fn(&o)
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.cluster || u.Query().Has("addr") {
		return dialCluster(ctx, u, rawURL)
	}
	return dialNode(ctx, rawURL)
}

// parseURL parses a Redis URL; its error never repeats the URL (url.Parse's
// does, password included).
func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redisgate: redis url: %w", err)
	}
	return u, nil
}

const (
	defaultDialTimeout = 2 * time.Second
	defaultIOTimeout   = 2 * time.Second
	// defaultPoolTimeout is how long a command waits for a free
	// connection. A decision waiting for its replica's acknowledgement
	// holds one (WAIT, ack.go), so a burst of hundreds of bookings on a
	// loaded machine queues for them: waiting beats answering 503 (seen:
	// 58 of 500 contenders past a 3 s bound while the machine ran other
	// test suites); the request's own deadline still bounds it.
	defaultPoolTimeout = 10 * time.Second
	// clusterReloadInterval bounds the age of a cluster client's slot map.
	clusterReloadInterval = 2 * time.Second
)

func orDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func dialNode(ctx context.Context, rawURL string) (redis.UniversalClient, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		// ParseURL's own errors do not repeat the URL; url.Parse's do.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redisgate: redis url: %w", err)
	}
	orDefault(&opt.DialTimeout, defaultDialTimeout)
	orDefault(&opt.ReadTimeout, defaultIOTimeout)
	orDefault(&opt.WriteTimeout, defaultIOTimeout)
	orDefault(&opt.PoolTimeout, defaultPoolTimeout)
	c := redis.NewClient(opt)
	info, err := c.Info(ctx, "cluster").Result()
	var rerr redis.Error
	if errors.As(err, &rerr) {
		// INFO refused (renamed or disabled, as some hosted Redis do):
		// a PING decides.
		info, err = "", c.Ping(ctx).Err()
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisgate: dial %s: %w", opt.Addr, classify(ctx, err))
	}
	if strings.Contains(info, "cluster_enabled:1") {
		_ = c.Close()
		return nil, fmt.Errorf("redisgate: %s is a node of a Redis Cluster: name it as one (ROOMCAL_REDIS_CLUSTER=true, or several nodes: redis://h1:p1?addr=h2:p2&addr=h3:p3)", opt.Addr)
	}
	return c, nil
}

func dialCluster(ctx context.Context, u *url.URL, rawURL string) (redis.UniversalClient, error) {
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("redisgate: a Redis Cluster is reached with redis:// or rediss://, not %s://", u.Scheme)
	}
	if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
		return nil, fmt.Errorf("redisgate: a Redis Cluster has only database 0, the url names database %q", p)
	}
	// ParseClusterURL ignores the path; its errors do not repeat the URL.
	opt, err := redis.ParseClusterURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisgate: redis cluster url: %w", err)
	}
	orDefault(&opt.DialTimeout, defaultDialTimeout)
	orDefault(&opt.ReadTimeout, defaultIOTimeout)
	orDefault(&opt.WriteTimeout, defaultIOTimeout)
	orDefault(&opt.PoolTimeout, defaultPoolTimeout)
	// The client reloads its slot map when a node answers MOVED, not when
	// a master stops answering: after a failover it would keep sending to
	// the dead master until the map's age passes this (60s by default).
	// The gates also ask for a reload when a master does not answer.
	orDefault(&opt.ClusterStateReloadInterval, clusterReloadInterval)
	c := redis.NewClusterClient(opt)
	// ForEachMaster loads the slot map (CLUSTER SLOTS) from the seeds:
	// a server that is no cluster fails here.
	err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("master %s: %w", m.Options().Addr, err)
		}
		return nil
	})
	if err != nil {
		_ = c.Close()
		seeds := strings.Join(opt.Addrs, ", ")
		if strings.Contains(err.Error(), "cluster support disabled") {
			return nil, fmt.Errorf("redisgate: %s is not a Redis Cluster (cluster support disabled): name it as a single node (no addr=, ROOMCAL_REDIS_CLUSTER unset)", seeds)
		}
		return nil, fmt.Errorf("redisgate: dial cluster (seeds %s): %w", seeds, classify(ctx, err))
	}
	return c, nil
}

// Topology is what a client reaches: one server, or the nodes of a Redis
// Cluster.
type Topology struct {
	Cluster bool
	// Addr is the server's address (one server).
	Addr string
	// Seeds are the addresses a cluster client was given.
	Seeds []string
	// Nodes are the server (one server), or every node the cluster lists
	// (CLUSTER NODES, handshakes left out), masters first, by address.
	Nodes []Node
}

// Node is one Redis server.
type Node struct {
	Addr string
	// Master is false for a replica. A cluster's master that failed and
	// was replaced stays a master (without slots) until it comes back as
	// a replica.
	Master bool
	// Failed is set when the cluster has agreed that the node is down.
	Failed bool
	// Answers says whether the node answered a PING.
	Answers bool
}

// Count returns how many masters and replicas there are, and how many of
// each answered.
func (t Topology) Count() (masters, replicas, mastersUp, replicasUp int) {
	for _, n := range t.Nodes {
		switch {
		case n.Master:
			masters++
			if n.Answers {
				mastersUp++
			}
		default:
			replicas++
			if n.Answers {
				replicasUp++
			}
		}
	}
	return masters, replicas, mastersUp, replicasUp
}

// String says what was found: "single node at HOST:PORT" or "cluster of
// N masters and M replicas (seeds …)".
func (t Topology) String() string {
	if !t.Cluster {
		return "single node at " + t.Addr
	}
	m, r, _, _ := t.Count()
	return fmt.Sprintf("cluster of %d masters and %d replicas (seeds %s)", m, r, strings.Join(t.Seeds, ", "))
}

// Describe says what client reaches: for a cluster, every node the
// cluster lists and which of them answer a PING. It fails only when it
// cannot learn the cluster's nodes at all (the error matches
// ErrUnavailable when Redis cannot be reached); a node that does not
// answer is reported in Nodes.
func Describe(ctx context.Context, client redis.UniversalClient) (Topology, error) {
	switch c := client.(type) {
	case *redis.ClusterClient:
		return describeCluster(ctx, c)
	case *redis.Client:
		addr := c.Options().Addr
		err := c.Ping(ctx).Err()
		return Topology{Addr: addr, Nodes: []Node{{Addr: addr, Master: true, Answers: err == nil}}}, nil
	}
	return Topology{}, fmt.Errorf("redisgate: describe: unexpected client %T", client)
}

func describeCluster(ctx context.Context, c *redis.ClusterClient) (Topology, error) {
	t := Topology{Cluster: true, Seeds: c.Options().Addrs}
	text, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return t, fmt.Errorf("redisgate: cluster nodes: %w", classify(ctx, err))
	}
	for _, n := range parseClusterNodes(text) {
		if n.has("handshake") || n.has("noaddr") {
			continue
		}
		t.Nodes = append(t.Nodes, Node{Addr: n.addr, Master: n.has("master"), Failed: n.has("fail")})
	}
	// Each node is pinged by a client of its own, with the cluster
	// client's credentials and timeouts: the cluster client knows only
	// the nodes CLUSTER SLOTS lists (not a failed master, nor a replica
	// that has received nothing yet).
	o := c.Options()
	var wg sync.WaitGroup
	for i := range t.Nodes {
		wg.Go(func() {
			nc := redis.NewClient(&redis.Options{
				Addr: t.Nodes[i].Addr, Dialer: o.Dialer, Username: o.Username, Password: o.Password,
				CredentialsProvider: o.CredentialsProvider, TLSConfig: o.TLSConfig,
				DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, MaxRetries: -1,
			})
			defer nc.Close()
			t.Nodes[i].Answers = nc.Ping(ctx).Err() == nil
		})
	}
	wg.Wait()
	slices.SortStableFunc(t.Nodes, func(a, b Node) int {
		switch {
		case a.Master == b.Master:
			return strings.Compare(a.Addr, b.Addr)
		case a.Master:
			return -1
		}
		return 1
	})
	return t, nil
}

// clusterNode is one line of CLUSTER NODES:
// "id ip:port@cport[,hostname] flags master-id ping pong epoch link slots...".
type clusterNode struct {
	id, addr, master string
	flags            []string
}

func (n clusterNode) has(flag string) bool { return slices.Contains(n.flags, flag) }

func parseClusterNodes(text string) []clusterNode {
	var out []clusterNode
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		out = append(out, clusterNode{id: f[0], addr: addr, flags: strings.Split(f[2], ","), master: f[3]})
	}
	return out
}

// Describe says what the gate's client reaches (see the function Describe).
func (g *Gate) Describe(ctx context.Context) (Topology, error) { return Describe(ctx, g.rdb) }
