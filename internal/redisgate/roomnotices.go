package redisgate

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
)

// RoomNotices carries "this room's settings changed" between replicas:
// a PUBLISH of the room id on PREFIX+"rooms". It only says where to
// look: the record itself is read from the room's calendar, never from
// Redis. On a Redis Cluster a PUBLISH reaches the subscribers of every
// node. It implements booking.RoomNotices.
type RoomNotices struct {
	rdb     redis.UniversalClient
	channel string
}

var _ booking.RoomNotices = (*RoomNotices)(nil)

// NewRoomNotices returns the notices of rdb under prefix ("" for the
// default "roomcal:").
func NewRoomNotices(rdb redis.UniversalClient, prefix string) *RoomNotices {
	if prefix == "" {
		prefix = defaultPrefix
	}
	return &RoomNotices{rdb: rdb, channel: prefix + "rooms"}
}

// Publish implements booking.RoomNotices.
func (n *RoomNotices) Publish(ctx context.Context, room string) error {
	if err := n.rdb.Publish(ctx, n.channel, room).Err(); err != nil {
		return classify(ctx, err)
	}
	return nil
}

// Subscribe implements booking.RoomNotices. It returns once the
// subscription is confirmed (or after subscribeTimeout; go-redis keeps
// trying), so that a notice published after it returns is heard.
func (n *RoomNotices) Subscribe(ctx context.Context) <-chan string {
	out := make(chan string, 64)
	done := listen(ctx, n.rdb, n.channel, func(payload string) bool {
		select {
		case out <- payload:
			return true
		case <-ctx.Done():
			return false
		}
	})
	go func() {
		<-done
		close(out)
	}()
	return out
}
