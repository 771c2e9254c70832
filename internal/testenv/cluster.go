package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const redisCli = "/usr/bin/redis-cli"

// ClusterNodeTimeout is the cluster-node-timeout of the clusters of
// `make test` and StartRedisCluster: a master that does not answer for
// that long is failed over to its replica (a second or two later, once
// the replica has won the election).
const ClusterNodeTimeout = 1000 * time.Millisecond

// Cluster is a private Redis Cluster owned by one test: three masters
// with one replica each, on free loopback ports, keeping nothing on disk
// but each node's cluster configuration (nodes.conf, so that a node
// restarted after a kill rejoins as it would in production). Its nodes
// are stopped when the test ends.
type Cluster struct {
	t     testing.TB
	Nodes []*ClusterNode
}

// ClusterNode is one redis-server of a Cluster.
type ClusterNode struct {
	port        int
	dir         string
	nodeTimeout time.Duration

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Addr is the node's host:port.
func (n *ClusterNode) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

// clusterMu serializes cluster start-ups in one test binary: a port is
// free when it is picked, not when the server binds it.
var clusterMu sync.Mutex

// StartRedisCluster starts a private Redis Cluster of three masters with
// one replica each, created with redis-cli --cluster create, and returns
// once every node says cluster_state:ok and every replica is in sync.
func StartRedisCluster(t testing.TB) *Cluster {
	t.Helper()
	return StartRedisClusterWith(t, ClusterNodeTimeout)
}

// StartRedisClusterWith is StartRedisCluster with another
// cluster-node-timeout: a test that pauses a node for a while, and must
// not have the cluster fail it meanwhile, gives itself room.
func StartRedisClusterWith(t testing.TB, nodeTimeout time.Duration) *Cluster {
	t.Helper()
	need(t, redisBin, "redis-server")
	need(t, redisCli, "redis-tools")
	begin := time.Now()
	clusterMu.Lock()
	c := &Cluster{t: t}
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			n.kill()
		}
	})
	for range 6 {
		c.Nodes = append(c.Nodes, startClusterNode(t, nodeTimeout))
	}
	clusterMu.Unlock()
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr())
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, redisCli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.AwaitHealthy(t, 30*time.Second)
	t.Logf("testenv: Redis Cluster of 3 masters and 3 replicas up in %v", time.Since(begin).Round(time.Millisecond))
	return c
}

// URL is the cluster's URL, every node listed:
// redis://h1:p1?addr=h2:p2&addr=….
func (c *Cluster) URL() string {
	var b strings.Builder
	b.WriteString("redis://" + c.Nodes[0].Addr())
	for i, n := range c.Nodes[1:] {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString("addr=" + n.Addr())
	}
	return b.String()
}

// startClusterNode starts one cluster-enabled redis-server on a port that
// is free, as is port+10000 (its cluster bus). A server that exits at
// start-up (its ports were taken meanwhile) is started again on others.
func startClusterNode(t testing.TB, nodeTimeout time.Duration) *ClusterNode {
	t.Helper()
	var last string
	for range 5 {
		n := &ClusterNode{port: clusterPort(t), dir: t.TempDir(), nodeTimeout: nodeTimeout}
		out, err := n.start()
		if err == nil {
			return n
		}
		last = fmt.Sprintf("%v\n%s", err, out)
	}
	t.Fatalf("testenv: no Redis cluster node could start:\n%s", last)
	return nil
}

// clusterPort returns a port that is free, as is port+10000.
func clusterPort(t testing.TB) int {
	t.Helper()
	for {
		port := FreePort(t)
		if port+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+10000))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
}

// start starts the node's server with its port and folder and waits until
// it answers; on failure it returns the server's log.
func (n *ClusterNode) start() (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	logPath := filepath.Join(n.dir, "redis.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	defer log.Close()
	cmd := exec.Command(redisBin, "--port", strconv.Itoa(n.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", n.dir, "--daemonize", "no",
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-node-timeout", strconv.Itoa(int(n.nodeTimeout/time.Millisecond)),
		// A replica's full sync starts at once, not after 5 s of waiting
		// for other replicas to share it.
		"--repl-diskless-sync-delay", "0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	c := redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			return string(out), errors.New("redis-server exited at start-up")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		// The server on the port must be ours, not another test's.
		if err == nil && strings.Contains(info, fmt.Sprintf("process_id:%d\r\n", cmd.Process.Pid)) {
			n.cmd, n.exited = cmd, exited
			return "", nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			out, _ := os.ReadFile(logPath)
			return string(out), errors.New("no answer within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL (like a crash) and waits for the exit. A paused node
// is killed too.
func (n *ClusterNode) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.exited
	n.cmd = nil
}

func (n *ClusterNode) signal(sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("node %s is not running", n.Addr())
	}
	return n.cmd.Process.Signal(sig)
}

// Kill kills node with SIGKILL, as a crash would, and waits until it has
// exited. It returns when it did.
func (c *Cluster) Kill(n *ClusterNode) time.Time {
	n.kill()
	return time.Now()
}

// Restart starts a killed node again on its port with its folder: it
// comes back empty (nothing is saved) and, from its nodes.conf, rejoins
// the cluster; a master that was failed over becomes a replica of the
// node that took its place.
func (c *Cluster) Restart(t testing.TB, n *ClusterNode) {
	t.Helper()
	if out, err := n.start(); err != nil {
		t.Fatalf("testenv: restart %s: %v\n%s", n.Addr(), err, out)
	}
}

// Pause stops node's process (SIGSTOP) without killing it: its sockets
// stay open but it reads nothing, like a node that lags. Resume undoes it.
func (c *Cluster) Pause(t testing.TB, n *ClusterNode) {
	t.Helper()
	if err := n.signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("testenv: pause %s: %v", n.Addr(), err)
	}
}

// Stall makes the replica of key's slot lag behind its master, as on a
// slow or congested link, and returns it: the replica is paused, then
// junk is written to the master, in key's slot, until the link to the
// replica is full and the master keeps what it replicates in its own
// memory (the replica's omem in CLIENT LIST passes 1 MB; the kernel's
// socket buffers take a few MB first). From then on, until Resume, what
// the master is written reaches the replica only if the master lives.
func (c *Cluster) Stall(t testing.TB, key string) *ClusterNode {
	t.Helper()
	master, replica := c.MasterOf(t, key), c.ReplicaOf(t, key)
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	c.Pause(t, replica)
	mc := redis.NewClient(&redis.Options{Addr: master.Addr(), ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxRetries: -1})
	defer mc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	junk := strings.Repeat("x", 1<<20)
	for i := range 64 {
		if err := mc.Set(ctx, fmt.Sprintf("testenv:junk{%s}:%d", tag, i), junk, 0).Err(); err != nil {
			t.Fatalf("testenv: stall %s: write to %s: %v", replica.Addr(), master.Addr(), err)
		}
		list, err := mc.ClientList(ctx).Result()
		if err != nil {
			t.Fatalf("testenv: stall %s: client list of %s: %v", replica.Addr(), master.Addr(), err)
		}
		for line := range strings.SplitSeq(list, "\n") {
			if !strings.Contains(line, " flags=S ") {
				continue
			}
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, "omem="); ok {
					if n, _ := strconv.Atoi(v); n > 1<<20 {
						return replica
					}
				}
			}
		}
	}
	t.Fatalf("testenv: stall %s: 64 MB written to %s and its link to the replica is not full", replica.Addr(), master.Addr())
	return nil
}

// Resume continues a paused node (SIGCONT).
func (c *Cluster) Resume(t testing.TB, n *ClusterNode) {
	t.Helper()
	if err := n.signal(syscall.SIGCONT); err != nil {
		t.Fatalf("testenv: resume %s: %v", n.Addr(), err)
	}
}

// node returns the Cluster's node at addr.
func (c *Cluster) node(addr string) *ClusterNode {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// client is a short-lived client of one node.
func (n *ClusterNode) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: 500 * time.Millisecond,
		ReadTimeout: 2 * time.Second, MaxRetries: -1})
}

// running lists the nodes that run (not killed).
func (c *Cluster) running() []*ClusterNode {
	var out []*ClusterNode
	for _, n := range c.Nodes {
		n.mu.Lock()
		if n.cmd != nil {
			out = append(out, n)
		}
		n.mu.Unlock()
	}
	return out
}

// shard is one slot range of the cluster: its master and replicas.
type shard struct {
	master   string
	replicas []string
}

// shardOf asks a running node which master (and replicas) serve key's
// slot, from its CLUSTER NODES (CLUSTER SLOTS leaves out the replicas
// that have received nothing yet).
func (c *Cluster) shardOf(ctx context.Context, key string) (shard, error) {
	var last error
	for _, n := range c.running() {
		cl := n.client()
		slot, err := cl.ClusterKeySlot(ctx, key).Result()
		var text string
		if err == nil {
			text, err = cl.ClusterNodes(ctx).Result()
		}
		cl.Close()
		if err != nil {
			last = err
			continue
		}
		lines := parseNodes(text)
		for _, m := range lines {
			if !m.serves(int(slot)) {
				continue
			}
			sh := shard{master: m.addr}
			for _, r := range lines {
				if r.master == m.id && !slices.Contains(r.flags, "fail") {
					sh.replicas = append(sh.replicas, r.addr)
				}
			}
			return sh, nil
		}
		last = fmt.Errorf("slot %d of %q is not served", slot, key)
	}
	return shard{}, fmt.Errorf("no node says who serves %q: %w", key, last)
}

// nodeLine is one line of CLUSTER NODES.
type nodeLine struct {
	id, addr, master string
	flags            []string
	slots            []string // "0-5460", "5461", or migration markers "[…]"
}

func parseNodes(text string) []nodeLine {
	var out []nodeLine
	for l := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		out = append(out, nodeLine{id: f[0], addr: addr, master: f[3], flags: strings.Split(f[2], ","), slots: f[8:]})
	}
	return out
}

// serves reports whether the node is a master that owns slot.
func (n nodeLine) serves(slot int) bool {
	if !slices.Contains(n.flags, "master") || slices.Contains(n.flags, "fail") {
		return false
	}
	for _, r := range n.slots {
		if strings.HasPrefix(r, "[") {
			continue
		}
		from, to, ok := strings.Cut(r, "-")
		if !ok {
			to = from
		}
		a, err1 := strconv.Atoi(from)
		b, err2 := strconv.Atoi(to)
		if err1 == nil && err2 == nil && a <= slot && slot <= b {
			return true
		}
	}
	return false
}

// MasterOf returns the master that serves key's slot, as the cluster says.
func (c *Cluster) MasterOf(t testing.TB, key string) *ClusterNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sh, err := c.shardOf(ctx, key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	n := c.node(sh.master)
	if n == nil {
		t.Fatalf("testenv: master %s of %q is not a node of this cluster", sh.master, key)
	}
	return n
}

// ReplicaOf returns the replica of key's slot (the one of master's shard).
func (c *Cluster) ReplicaOf(t testing.TB, key string) *ClusterNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sh, err := c.shardOf(ctx, key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if len(sh.replicas) == 0 {
		t.Fatalf("testenv: the slot of %q has no replica", key)
	}
	return c.node(sh.replicas[0])
}

// AwaitFailover waits until key's slot is served by a master other than
// dead, and that master says cluster_state:ok, and returns it.
func (c *Cluster) AwaitFailover(t testing.TB, key string, dead *ClusterNode, timeout time.Duration) *ClusterNode {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		sh, err := c.shardOf(ctx, key)
		if err == nil && sh.master != dead.Addr() {
			if n := c.node(sh.master); n != nil {
				cl := n.client()
				info, err := cl.ClusterInfo(ctx).Result()
				cl.Close()
				if err == nil && strings.Contains(info, "cluster_state:ok") {
					cancel()
					return n
				}
			}
		}
		cancel()
		last = fmt.Sprintf("%+v %v", sh, err)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("testenv: no failover of %s within %v (last: %s)", dead.Addr(), timeout, last)
	return nil
}

// AwaitHealthy waits until every running node says cluster_state:ok and
// knows every node, every replica's link to its master is up, and every
// node sees a live replica for every master that serves slots (so a
// killed node must be restarted first).
func (c *Cluster) AwaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		last = c.unhealthy()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: Redis Cluster not healthy after %v: %s", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unhealthy says what is not healthy yet, or "".
func (c *Cluster) unhealthy() string {
	for _, n := range c.running() {
		if why := c.nodeUnhealthy(n); why != "" {
			return why
		}
	}
	return ""
}

// nodeUnhealthy says what is not healthy yet from node n's view, or "".
func (c *Cluster) nodeUnhealthy(n *ClusterNode) string {
	cl := n.client()
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := cl.ClusterInfo(ctx).Result()
	var repl string
	if err == nil {
		repl, err = cl.Info(ctx, "replication").Result()
	}
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %v", n.Addr(), err)
	case !strings.Contains(info, "cluster_state:ok"):
		return n.Addr() + ": cluster_state is not ok"
	case !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d\r\n", len(c.Nodes))):
		return n.Addr() + ": does not know every node yet"
	case strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up"):
		return n.Addr() + ": replica not in sync with its master yet"
	}
	return unpaired(ctx, cl, n.Addr())
}

// unpaired says, from the view of the node cl reaches (CLUSTER NODES),
// which master serving slots has no replica it considers alive, or "".
func unpaired(ctx context.Context, cl *redis.Client, addr string) string {
	text, err := cl.ClusterNodes(ctx).Result()
	if err != nil {
		return fmt.Sprintf("%s: %v", addr, err)
	}
	lines := parseNodes(text)
	for _, m := range lines {
		if !slices.Contains(m.flags, "master") || len(m.slots) == 0 {
			continue
		}
		paired := false
		for _, r := range lines {
			paired = paired || (r.master == m.id && !slices.Contains(r.flags, "fail") && !slices.Contains(r.flags, "fail?"))
		}
		if !paired {
			return fmt.Sprintf("%s sees master %s without a live replica", addr, m.addr)
		}
	}
	return ""
}

// AwaitReplicated waits until every replica of master has received all
// that master had written when it was called.
func (c *Cluster) AwaitReplicated(t testing.TB, master *ClusterNode, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	mc := master.client()
	defer mc.Close()
	info, err := mc.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatalf("testenv: replication of %s: %v", master.Addr(), err)
	}
	want := infoInt(info, "master_repl_offset")
	var replicas []*ClusterNode
	for i := 0; ; i++ {
		line := infoField(info, fmt.Sprintf("slave%d", i))
		if line == "" {
			break
		}
		var ip, port string
		for f := range strings.SplitSeq(line, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "ip":
				ip = v
			case "port":
				port = v
			}
		}
		if n := c.node(net.JoinHostPort(ip, port)); n != nil {
			replicas = append(replicas, n)
		}
	}
	if len(replicas) == 0 {
		t.Fatalf("testenv: %s has no replica", master.Addr())
	}
	for _, r := range replicas {
		rc := r.client()
		for {
			ri, err := rc.Info(ctx, "replication").Result()
			if err == nil && infoInt(ri, "slave_repl_offset") >= want {
				break
			}
			if ctx.Err() != nil {
				rc.Close()
				t.Fatalf("testenv: replica %s did not reach offset %d of %s within %v (%v)", r.Addr(), want, master.Addr(), timeout, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		rc.Close()
	}
}

// infoField is the value of one "key:value" line of an INFO answer.
func infoField(info, key string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), key+":"); ok {
			return v
		}
	}
	return ""
}

func infoInt(info, key string) int64 {
	n, _ := strconv.ParseInt(infoField(info, key), 10, 64)
	return n
}
