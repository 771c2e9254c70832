package redisgate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/testenv"
)

// The embedded engine runs the scripts with gopher-lua and gopher-json,
// Redis with Lua 5.1 and lua-cjson. They differ in places: number
// formatting (tostring is %.14g in Lua 5.1, every digit in gopher-lua),
// lua-cjson's %.14g numbers, nil in returned tables, errors. Each probe
// below is a Lua idiom the scripts rely on (or must avoid) with the
// answer Redis 7 gives; both engines must give exactly that answer, so a
// script that works on one works on the other. Where the engines differ
// the probe pins how the scripts stay clear of it.
var luaProbes = []struct {
	name, script string
	want         string // fmt.Sprintf("%#v") of the reply, or "error: prefix"
}{
	// fmt (lib.lua, ev_lib.lua) writes integers with %d: tostring would
	// give 1.8934992e+15 on Redis and all the digits on gopher-lua.
	{"fmt of microseconds", `return string.format('%d', 1893499200000000)`, `"1893499200000000"`},
	{"fmt of negative ms", `return string.format('%d', -86400000)`, `"-86400000"`},
	{"tostring of ms", `return tostring(1893499200000)`, `"1893499200000"`},
	{"tostring of a small int", `return tostring(42)`, `"42"`},
	{"load's version", `local t = {'1893499200', '7'} return t[1] .. string.format('%06d', tonumber(t[2]))`, `"1893499200000007"`},
	// now_ms (lib.lua) from TIME's strings.
	{"ms from TIME", `local t = {'1893499200', '123456'} return string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))`, `"1893499200123"`},
	{"TIME gives two strings", `local t = redis.call('TIME') return {type(t[1]), type(t[2]), #t}`, `[]interface {}{"string", "string", 2}`},
	// Numbers returned become integers, truncated toward zero.
	{"float reply truncates", `return 3.7`, `3`},
	{"negative float reply", `return -3.7`, `-3`},
	{"large integer reply", `return 1893499200000`, `1893499200000`},
	{"true reply", `return true`, `1`},
	{"false reply", `return false`, `<nil>`},
	// A nil ends a returned table: scripts never put nil in one.
	{"nil ends a table", `return {1, nil, 3}`, `[]interface {}{1}`},
	{"nested table", `return {'OK', {'a', 2}}`, `[]interface {}{"OK", []interface {}{"a", 2}}`},
	{"status reply", `return redis.status_reply('DONE')`, `"DONE"`},
	{"error reply", `return redis.error_reply('NOPE bad')`, `error: NOPE bad`},
	// A missing field is false, which tonumber turns to nil (num() in
	// lib.lua gives its default then).
	{"HGET missing is false", `return tostring(redis.call('HGET', KEYS[1], 'nope'))`, `"false"`},
	{"tonumber of false", `return tostring(tonumber(redis.call('HGET', KEYS[1], 'nope')))`, `"nil"`},
	{"HINCRBY gives a number", `redis.call('DEL', KEYS[1]) return type(redis.call('HINCRBY', KEYS[1], 'v', 1))`, `"number"`},
	{"HMGET gives false for missing", `redis.call('DEL', KEYS[1]) local v = redis.call('HMGET', KEYS[1], 'a', 'b') return {#v, tostring(v[1])}`, `[]interface {}{2, "false"}`},
	{"a string is no number", `return tostring('1' == 1)`, `"false"`},
	// lua-cjson, as the event records use it.
	{"cjson round trip of a record", `local r = cjson.decode('{"status":"confirmed","seq":12,"ver":7,"name":"Zoë \\"la\\" Grande","at":1893499200123}') return {r.status, r.seq, r.ver, r.name, string.format('%d', r.at)}`,
		`[]interface {}{"confirmed", 12, 7, "Zoë \"la\" Grande", "1893499200123"}`},
	// lua-cjson raises on bad JSON, gopher-json answers nil: the scripts
	// decode through decode() (lib.lua), which raises on both.
	{"bad JSON gives no table", `local ok, v = pcall(cjson.decode, '{"a":') return tostring(ok and type(v) == 'table')`, `"false"`},
	{"empty table decodes to a table", `local v = cjson.decode(cjson.encode({})) return type(v)`, `"table"`},
	{"cjson encodes ms whole", `return cjson.encode({a = 1893499200123})`, `"{\"a\":1893499200123}"`},
	{"cjson decodes a list", `local l = cjson.decode('[["m1","c"],["m2","w"]]') return {#l, l[2][1]}`, `[]interface {}{2, "m2"}`},
	{"cjson of a string with escapes", `return cjson.decode(cjson.encode('a\nb"c'))`, `"a\nb\"c"`},
	// Patterns the scripts use.
	{"match a member", `local s, e = string.match('100|200|{"r":"x"}', '^(%-?%d+)|(%-?%d+)|') return {s, e}`, `[]interface {}{"100", "200"}`},
	{"match a failed range", `local a, b, c = string.match('3 7 1893499200123', '^(%-?%d+) (%-?%d+) (%-?%d+)$') return {a, b, c}`, `[]interface {}{"3", "7", "1893499200123"}`},
	{"gmatch lines", `local n = 0 for m in string.gmatch('a\nb\n\nc', '[^\n]+') do n = n + 1 end return n`, `3`},
	// unpack of a few thousand (zrem_all batches its ZREMs below this).
	{"unpack of 1000", `local t = {} for i = 1, 1000 do t[i] = i end return select('#', unpack(t))`, `1000`},
	{"unpack of a range", `return {unpack({1, 2, 3, 4}, 2, 3)}`, `[]interface {}{2, 3}`},
	// Integer arithmetic on doubles stays exact up to 2^53.
	{"exact up to 2^53", `return string.format('%d', 9007199254740991 - 1)`, `"9007199254740990"`},
	{"math.floor", `return math.floor(-1.5)`, `-2`},
	// Sorted sets with exclusive and infinite bounds.
	{"ZRANGEBYSCORE bounds", `redis.call('DEL', KEYS[1]) redis.call('ZADD', KEYS[1], 1, 'a', 2, 'b', 3, 'c') return redis.call('ZRANGEBYSCORE', KEYS[1], '(1', '+inf')`, `[]interface {}{"b", "c"}`},
	{"ZRANK is 0-based", `redis.call('DEL', KEYS[1]) redis.call('ZADD', KEYS[1], 5, 'x', 9, 'y') return redis.call('ZRANK', KEYS[1], 'y')`, `1`},
	{"ZRANK of missing is false", `redis.call('DEL', KEYS[1]) return tostring(redis.call('ZRANK', KEYS[1], 'y'))`, `"false"`},
	{"PTTL without expiry", `redis.call('SET', KEYS[1], 'v') return redis.call('PTTL', KEYS[1])`, `-1`},
	{"PTTL of a missing key", `redis.call('DEL', KEYS[1]) return redis.call('PTTL', KEYS[1])`, `-2`},
	{"SET NX on a held key", `redis.call('SET', KEYS[1], 'a') return tostring(redis.call('SET', KEYS[1], 'b', 'NX'))`, `"false"`},
	{"a failed call raises", `return redis.call('HSET', KEYS[1])`, `error: ERR`},
	{"pcall catches it", `local ok = pcall(redis.call, 'HSET', KEYS[1]) return tostring(ok)`, `"false"`},
}

func runProbes(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := "probe{" + testenv.RandomID() + "}"
	t.Cleanup(func() { c.Del(context.Background(), key) })
	for _, p := range luaProbes {
		t.Run(p.name, func(t *testing.T) {
			v, err := c.Eval(ctx, p.script, []string{key}).Result()
			got := fmt.Sprintf("%#v", v)
			if errors.Is(err, redis.Nil) {
				got, err = "<nil>", nil
			}
			if err != nil {
				if prefix, ok := strings.CutPrefix(p.want, "error: "); ok && strings.HasPrefix(err.Error(), prefix) {
					return
				}
				t.Fatalf("error %v, want %s", err, p.want)
			}
			if got != p.want {
				t.Errorf("got %s, want %s", got, p.want)
			}
		})
	}
}

func TestLuaProbesEmbedded(t *testing.T) {
	runProbes(t, gatetest.Embedded(t).Client())
}

func TestLuaProbesRedis(t *testing.T) {
	runProbes(t, client(t, testenv.RedisURL(t)))
}
