package booking

import "time"

// Watch is a subscription to the changes of one room or event: C
// receives a value (it holds at most one) after every change published
// once the Watch was made: a state installed, a write recorded, a lock
// released, by this replica or any other. Stop ends it.
//
// A waiter makes its Watch first, then looks at the state, then waits
// on C: a change made in between is not missed. Notices may be lost
// (a dropped connection), and a lock that expires publishes nothing, so
// a waiter also bounds each wait (NoticeFallback) and looks again.
type Watch struct {
	C    <-chan struct{}
	Stop func()
}

// NoticeFallback bounds one wait on a Watch: the longest a waiter sleeps
// when no notice comes (a lost notice, an expired lock's holder that
// died). It is not a polling period: a live holder's release or write
// wakes waiters at once.
const NoticeFallback = time.Second
