package redisgate

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
)

// notices delivers the changes the scripts publish (notify in lib.lua
// and ev_lib.lua, and unlock.lua) to the watchers of this process: one
// subscription to PREFIX+"notices", whose messages are the hash tags of
// what changed ("room:ID", "event:ID"), fanned out to the Watches of that
// tag. On a Redis Cluster a PUBLISH reaches the subscribers of every
// node, so the subscription may sit on any of them.
//
// The subscription starts with the first Watch and lasts until Close.
// go-redis re-subscribes after a dropped connection; what was published
// meanwhile is lost, which the waiters' bounded waits cover
// (booking.NoticeFallback).
type notices struct {
	rdb     redis.UniversalClient
	channel string

	once sync.Once // starts the subscription

	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{}
	closed   bool
	stop     context.CancelFunc
	done     <-chan struct{}
}

func newNotices(rdb redis.UniversalClient, prefix string) *notices {
	return &notices{rdb: rdb, channel: prefix + "notices", watchers: map[string]map[chan struct{}]struct{}{}}
}

// subscribeTimeout bounds how long the first Watch waits for the
// subscription to be confirmed (so that what it then reads is covered).
const subscribeTimeout = 2 * time.Second

// watch subscribes to tag's notices.
func (n *notices) watch(tag string) booking.Watch {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.watchers[tag] == nil {
		n.watchers[tag] = map[chan struct{}]struct{}{}
	}
	n.watchers[tag][ch] = struct{}{}
	n.mu.Unlock()
	n.once.Do(n.start)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			n.mu.Lock()
			delete(n.watchers[tag], ch)
			if len(n.watchers[tag]) == 0 {
				delete(n.watchers, tag)
			}
			n.mu.Unlock()
		})
	}
	return booking.Watch{C: ch, Stop: stop}
}

// start subscribes and runs the fan-out until close. It waits (boundedly)
// for the subscription to be confirmed: a Watch made after that hears
// every later notice.
func (n *notices) start() {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := listen(ctx, n.rdb, n.channel, func(payload string) bool { n.deliver(payload); return true })
	n.mu.Lock()
	n.stop, n.done = cancel, done
	n.mu.Unlock()
}

// deliver wakes every watcher of tag (without blocking: one pending
// value is enough for a waiter to look again).
func (n *notices) deliver(tag string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.watchers[tag] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// close ends the subscription.
func (n *notices) close() {
	n.mu.Lock()
	n.closed = true
	stop, done := n.stop, n.done
	n.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// listen subscribes to channel and hands each message's payload to
// deliver until ctx ends or deliver says to stop; it returns once the
// subscription is confirmed (or after subscribeTimeout: go-redis keeps
// trying), so that a message published after it returns is heard. done
// is closed when it stops listening.
func listen(ctx context.Context, rdb redis.UniversalClient, channel string, deliver func(payload string) bool) (done <-chan struct{}) {
	ps := rdb.Subscribe(ctx, channel)
	rctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	_, _ = ps.Receive(rctx) // a failure is retried by the channel below
	cancel()
	stopped := make(chan struct{})
	msgs := ps.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second))
	go func() {
		defer close(stopped)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok || !deliver(m.Payload) {
					return
				}
			}
		}
	}()
	return stopped
}
