package redisgate

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	noticespkg "github.com/roomcal/roomcal/internal/notices"
)

var (
	//go:embed lua/notice_claim.lua
	noticeClaimSrc string
	//go:embed lua/notice_release.lua
	noticeReleaseSrc string
	//go:embed lua/notice_count.lua
	noticeCountSrc string

	noticeClaimScript   = redis.NewScript(noticeClaimSrc)
	noticeReleaseScript = redis.NewScript(noticeReleaseSrc)
	noticeCountScript   = redis.NewScript(noticeCountSrc)
)

// NoticeClaims are the notices worker's decisions that replicas share
// (notices.Claims): who sends a notice, and how many a member got
// today. It is safe for concurrent use.
//
// # Keys
//
// With prefix P (WithPrefix, default "roomcal:"), KEY the caller's key
// percent-escaped as Limiter's are:
//
//	P{nc:KEY}   STRING  a claim: the owner (one per NoticeClaims value); expires
//	P{nd:KEY}   SET     the messages counted against a member's day (tokens
//	                    of their Message-IDs, and "-"); expires
//
// Both are caches: losing a claim (a flush) may at worst let a notice
// be sent again by another replica in the instant between its send and
// its Told write; a day's set lost is rebuilt from the messages the
// calendar store recorded as sent that day (the seed of Count). What
// was told is kept in the calendar.
type NoticeClaims struct {
	gate  *Gate
	owner string
}

var _ noticespkg.Claims = (*NoticeClaims)(nil)

// NewNoticeClaims returns the claims of this process on client; it
// takes the Gate's options (WithPrefix).
func NewNoticeClaims(client redis.UniversalClient, opts ...Option) *NoticeClaims {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return &NoticeClaims{gate: New(client, opts...), owner: hex.EncodeToString(b[:])}
}

func (n *NoticeClaims) key(kind, key string) string {
	return n.gate.prefix + "{" + kind + ":" + keyEscaper.Replace(key) + "}"
}

// Claim implements notices.Claims.
func (n *NoticeClaims) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" {
		return false, errors.New("notice claim: empty key")
	}
	v, err := n.gate.eval(ctx, noticeClaimScript, []string{n.key("nc", key)}, []any{n.owner, ms(ttl)})
	if err != nil {
		return false, fmt.Errorf("notice claim %s: %w", key, err)
	}
	got, ok := v.(int64)
	if !ok {
		return false, fmt.Errorf("notice claim %s: unexpected script answer %v", key, v)
	}
	return got == 1, nil
}

// Release implements notices.Claims.
func (n *NoticeClaims) Release(ctx context.Context, key string) error {
	if _, err := n.gate.eval(ctx, noticeReleaseScript, []string{n.key("nc", key)}, []any{n.owner}); err != nil {
		return fmt.Errorf("notice release %s: %w", key, err)
	}
	return nil
}

// Count implements notices.Claims.
func (n *NoticeClaims) Count(ctx context.Context, key, msg string, limit int, ttl time.Duration,
	seed func(context.Context) ([]string, error)) (int, bool, error) {
	if msg == "" || msg == "-" {
		return 0, false, fmt.Errorf("notice count %s: bad message token %q", key, msg)
	}
	args := []any{msg, limit, ms(ttl), 0}
	for try := 0; ; try++ {
		res, err := n.gate.run(ctx, noticeCountScript, []string{n.key("nd", key)}, args)
		if err != nil {
			return 0, false, fmt.Errorf("notice count %s: %w", key, err)
		}
		ok, ok1 := res[0].(int64)
		var count int64
		ok2 := len(res) == 2
		if ok2 {
			count, ok2 = res[1].(int64)
		}
		if !ok1 || !ok2 {
			return 0, false, fmt.Errorf("notice count %s: unexpected script answer %v", key, res)
		}
		if ok != -1 {
			return int(count), ok == 1, nil
		}
		if try > 0 {
			return 0, false, fmt.Errorf("notice count %s: seeded and still missing", key)
		}
		// The day's set is missing: seed it from what was recorded.
		var ids []string
		if seed != nil {
			if ids, err = seed(ctx); err != nil {
				return 0, false, fmt.Errorf("notice count %s: seed: %w", key, err)
			}
		}
		args = []any{msg, limit, ms(ttl), 1}
		for _, id := range ids {
			if id != "" && id != "-" {
				args = append(args, id)
			}
		}
	}
}
