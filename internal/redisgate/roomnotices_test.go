package redisgate_test

import (
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// TestRoomNotices: a room published after Subscribe returns reaches every
// subscriber (two replicas), on the embedded engine; cmd/roomcal's
// TestAdminRoomsReachEveryReplica covers a real Redis.
func TestRoomNotices(t *testing.T) {
	rdb := gatetest.Embedded(t).Client()
	n := redisgate.NewRoomNotices(rdb, "t15:")
	a, b := n.Subscribe(t.Context()), redisgate.NewRoomNotices(rdb, "t15:").Subscribe(t.Context())
	if err := n.Publish(t.Context(), "loire"); err != nil {
		t.Fatal(err)
	}
	for i, ch := range []<-chan string{a, b} {
		select {
		case got := <-ch:
			if got != "loire" {
				t.Errorf("subscriber %d got %q", i, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscriber %d heard nothing", i)
		}
	}
	other := redisgate.NewRoomNotices(rdb, "other:").Subscribe(t.Context())
	if err := n.Publish(t.Context(), "erdre"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-other:
		t.Errorf("a subscriber under another prefix heard %q", got)
	case <-time.After(300 * time.Millisecond):
	}
}
