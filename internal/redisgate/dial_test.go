package redisgate_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

// Dial's choice: a URL with addr= parameters, or any URL with
// AsCluster(true), gives a cluster client; else a single-node client. A
// URL that names a server of the other kind is refused with a message
// saying what to write instead; Describe says what was found.
func TestDial(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	single := testenv.RedisURL(t)
	cluster := testenv.RedisClusterURL(t)
	seed, _, _ := strings.Cut(cluster, "?")
	seeds := clusterSeeds(t, cluster)

	tests := []struct {
		name    string
		url     string
		cluster bool
		want    string // what Describe says: its String, with "…" for the rest
	}{
		{"one server", single, false, "single node at " + strings.TrimSuffix(strings.TrimPrefix(single, "redis://"), "/0")},
		{"a cluster, every node listed", cluster, false, "cluster of 3 masters and 3 replicas (seeds " + strings.Join(seeds, ", ") + ")"},
		{"a cluster, one seed node and the flag", seed, true, "cluster of 3 masters and 3 replicas (seeds " + seeds[0] + ")"},
		{"a cluster, database 0 named", seed + "/0", true, "cluster of 3 masters and 3 replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisgate.Dial(ctx, tt.url, redisgate.AsCluster(tt.cluster))
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			_, isCluster := c.(*redis.ClusterClient)
			if wantCluster := strings.HasPrefix(tt.want, "cluster"); isCluster != wantCluster {
				t.Fatalf("Dial gave a %T", c)
			}
			topo, err := redisgate.Describe(ctx, c)
			if err != nil {
				t.Fatalf("Describe: %v", err)
			}
			if !strings.HasPrefix(topo.String(), tt.want) {
				t.Errorf("Describe says %q, want %q…", topo, tt.want)
			}
			masters, replicas, up, rup := topo.Count()
			if isCluster && (masters != 3 || replicas != 3 || up != 3 || rup != 3) {
				t.Errorf("Count: %d masters (%d answer), %d replicas (%d answer); want 3 of each, all answering", masters, up, replicas, rup)
			}
			if !isCluster && (masters != 1 || up != 1) {
				t.Errorf("Count: %d masters (%d answer), want 1", masters, up)
			}
			if err := redisgate.New(c).Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}

	downPort := testenv.FreePort(t)
	refused := []struct {
		name        string
		url         string
		cluster     bool
		unavailable bool
		says        string
	}{
		{"not a redis url", "http://example.org/", false, false, "scheme"},
		{"bad database", "redis://127.0.0.1:1/x", false, false, "database"},
		{"does not parse", "redis://user:s3cret@127.0.0.1:port/0", false, false, "port"},
		{"nobody listening", fmt.Sprintf("redis://user:s3cret@127.0.0.1:%d/0", downPort), false, true, ""},
		{"nobody listening, as a cluster", fmt.Sprintf("redis://user:s3cret@127.0.0.1:%d?addr=127.0.0.1:%d", downPort, downPort), false, true, ""},
		{"a cluster node named as one server", seed, false, false, "is a node of a Redis Cluster: name it as one"},
		{"one server named as a cluster", single, true, false, "is not a Redis Cluster"},
		{"a cluster with another database", seed + "/2", true, false, "only database 0"},
		{"a cluster over a unix socket", "unix:///run/redis.sock?addr=127.0.0.1:7000", false, false, "redis:// or rediss://"},
		{"a bad addr", "redis://:s3cret@127.0.0.1:7000?addr=nowhere", false, false, "addr"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisgate.Dial(ctx, tt.url, redisgate.AsCluster(tt.cluster))
			if err == nil {
				_ = c.Close()
				t.Fatalf("Dial(%q) succeeded", tt.url)
			}
			if errors.Is(err, redisgate.ErrUnavailable) != tt.unavailable {
				t.Errorf("Dial(%q) = %v, unavailable want %v", tt.url, err, tt.unavailable)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Dial(%q) = %v, want it to say %q", tt.url, err, tt.says)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Dial error %q shows the password", err)
			}
		})
	}
}

// clusterSeeds lists the host:port of a cluster URL, in order.
func clusterSeeds(t *testing.T, raw string) []string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{u.Host}, u.Query()["addr"]...)
}
