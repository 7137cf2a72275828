package recstoreredis

import "github.com/redis/rueidis"

// The keys this package keeps in Redis, under a prefix (Options.Channel,
// "recstore" by default):
//
//	{prefix}:ver            the message version counter (INCR)
//	{prefix}:r:{type}:{id}  a cached record: a hash, doc = a JSON:API
//	                        document {"data": resource}, ver = the version
//	                        counter when its load began; expires (TTL)
//	{prefix}:l:{type}:{id}  the short lock of a load under way (a random
//	                        token; expires, LockTTL)
//	{prefix}:t:{type}       the version of the last message that made
//	                        every record of type stale: a cached record
//	                        of that type with a version not above it is
//	                        a miss
type keys struct{ prefix string }

func (k keys) ver() string                  { return k.prefix + ":ver" }
func (k keys) record(typ, id string) string { return k.prefix + ":r:" + typ + ":" + id }
func (k keys) lock(typ, id string) string   { return k.prefix + ":l:" + typ + ":" + id }
func (k keys) typeMark(typ string) string   { return k.prefix + ":t:" + typ }

// publishScript takes a version, drops the cached copies and loads under
// way of the records a message names, marks the types it names, and
// publishes it, all at once: a load that began before the message cannot
// fill the cache after it (its lock is gone), and versions grow in
// publish order. A counter that is missing (a Redis restarted without
// persistence, the key evicted or flushed) starts again at Redis's clock in
// microseconds, so that versions do not go back: counters start there, and
// a counter outruns the clock only past a million messages a second.
//
// KEYS[1] the version counter; KEYS[2..n] the record and lock keys to
// drop, then the type marks to set (ARGV[3] of them, at the end).
// ARGV[1] the channel, ARGV[2] the message after its version, ARGV[3]
// the number of type marks.
var publishScript = rueidis.NewLuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], string.format('%.0f', t[1] * 1000000 + t[2]))
end
local ver = redis.call('INCR', KEYS[1])
local marks = tonumber(ARGV[3])
for i = 2, #KEYS - marks do redis.call('UNLINK', KEYS[i]) end
for i = #KEYS - marks + 1, #KEYS do redis.call('SET', KEYS[i], ver) end
local tail = ARGV[2]
if tail ~= '}' then tail = ',' .. tail end
redis.call('PUBLISH', ARGV[1], '{"v":1,"ver":' .. string.format('%d', ver) .. tail)
return ver
`)

// lookupScript reads a cached record or, on a miss, takes the lock of its
// load. It answers {"hit", doc, ver}, {"lock", ver} (load it and fill),
// or {"wait", ver} (another load holds the lock); ver is the version
// counter now.
//
// KEYS: the record, its lock, the version counter, its type's mark.
// ARGV: the lock token, the lock's time to live in milliseconds.
var lookupScript = rueidis.NewLuaScript(`
local e = redis.call('HMGET', KEYS[1], 'doc', 'ver')
local mark = tonumber(redis.call('GET', KEYS[4]) or '0')
if e[1] and tonumber(e[2] or '0') >= mark then return {'hit', e[1], e[2]} end
local ver = redis.call('GET', KEYS[3]) or '0'
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'lock', ver} end
return {'wait', ver}
`)

// fillScript stores a loaded record if its lock is still ours (no message
// dropped it since the load began) and no message made its type stale
// since; it releases the lock either way. It answers 1 if it stored.
//
// KEYS: the record, its lock, its type's mark. ARGV: the lock token, the
// document, the version the load began at, the time to live in
// milliseconds.
var fillScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if tonumber(redis.call('GET', KEYS[3]) or '0') > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'ver', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// releaseScript gives up a lock if it is still ours (a load failed).
// KEYS: the lock. ARGV: the token.
var releaseScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
