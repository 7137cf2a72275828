package redisbench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// Run with, for example:
//
//	go test -run '^$' -bench . -benchmem -cpu 2 -count 1
//
// Every benchmark has one sub-benchmark per client so both clients are
// measured against the same redis-server in the same run.

// invalidateSrc bumps a version counter, drops two cached keys and announces
// the invalidation, all in one round trip.
const invalidateSrc = `
local v = redis.call('INCR', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return v`

// fillSrc stores a freshly loaded value only while the caller still holds the
// fill lock, then releases the lock. KEYS[1]=lock, KEYS[2]=value,
// ARGV[1]=token, ARGV[2]=value, ARGV[3]=value TTL in ms.
const fillSrc = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[1])
return 1`

const parallelism = 16 // goroutines per GOMAXPROCS in the parallel cases

// jsonValue returns a JSON document of exactly n bytes.
func jsonValue(n int) string {
	const head, tail = `{"id":"rec-1","type":"post","pad":"`, `"}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

var (
	value1K    = jsonValue(1024)
	invalidMsg = jsonValue(200)
)

type clients struct {
	gr   *goredis.Client
	gr32 *goredis.Client // PoolSize 32: one connection per goroutine in the parallel cases
	ru   rueidis.Client
}

func newClients(b *testing.B) clients {
	addr := needRedis(b)
	gr := goredis.NewClient(&goredis.Options{Addr: addr})
	gr32 := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 32})
	ru := newRueidis(b, addr)
	b.Cleanup(func() { _ = gr.Close(); _ = gr32.Close() })
	return clients{gr: gr, gr32: gr32, ru: ru}
}

func newRueidis(b *testing.B, addr string) rueidis.Client {
	ru, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ru.Close)
	return ru
}

func reportOps(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

// reportPercentiles reports p50 and p99 of ds in microseconds.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(p * float64(len(ds)-1))
		return float64(ds[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

func BenchmarkGet1K(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	const key = "bench:get:1k"
	if err := c.gr.Set(ctx, key, value1K, 0).Err(); err != nil {
		b.Fatal(err)
	}
	grGet := func(gr *goredis.Client) func() {
		return func() {
			v, err := gr.Get(ctx, key).Result()
			if err != nil || len(v) != len(value1K) {
				b.Fatalf("go-redis GET: %v (len %d)", err, len(v))
			}
		}
	}
	ruGet := func() {
		v, err := c.ru.Do(ctx, c.ru.B().Get().Key(key).Build()).ToString()
		if err != nil || len(v) != len(value1K) {
			b.Fatalf("rueidis GET: %v (len %d)", err, len(v))
		}
	}
	runSeqPar(b, grGet(c.gr), grGet(c.gr32), ruGet)
}

func BenchmarkEvalInvalidate(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	keys := []string{"bench:inv:ver", "bench:inv:a", "bench:inv:b"}
	grScript := goredis.NewScript(invalidateSrc)
	ruScript := rueidis.NewLuaScript(invalidateSrc)
	grEval := func(gr *goredis.Client) func() {
		return func() {
			if err := grScript.Run(ctx, gr, keys, "bench:inv:ch", invalidMsg).Err(); err != nil {
				b.Fatalf("go-redis EVALSHA: %v", err)
			}
		}
	}
	args := []string{"bench:inv:ch", invalidMsg}
	ruEval := func() {
		if err := ruScript.Exec(ctx, c.ru, keys, args).Error(); err != nil {
			b.Fatalf("rueidis EVALSHA: %v", err)
		}
	}
	runSeqPar(b, grEval(c.gr), grEval(c.gr32), ruEval)
}

// runSeqPar runs gr and ru sequentially (one goroutine) and in parallel
// (GOMAXPROCS*parallelism goroutines).
//
// gr32 (go-redis with PoolSize 32) is only run in parallel: sequentially it is
// the same as gr.
func runSeqPar(b *testing.B, gr, gr32, ru func()) {
	type client struct {
		name string
		op   func()
	}
	for _, mode := range []string{"seq", "par"} {
		cls := []client{{"goredis", gr}, {"rueidis", ru}}
		if mode == "par" {
			cls = []client{{"goredis", gr}, {"goredis-pool32", gr32}, {"rueidis", ru}}
		}
		for _, cl := range cls {
			b.Run(mode+"/"+cl.name, func(b *testing.B) {
				cl.op() // warm-up: loads the script, opens connections
				b.ReportAllocs()
				b.ResetTimer()
				if mode == "seq" {
					for i := 0; i < b.N; i++ {
						cl.op()
					}
				} else {
					b.SetParallelism(parallelism)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							cl.op()
						}
					})
				}
				b.StopTimer()
				reportOps(b)
				if mode == "par" {
					b.ReportMetric(float64(runtime.GOMAXPROCS(0)*parallelism), "goroutines")
				}
			})
		}
	}
}

// BenchmarkPubSubLatency publishes one message at a time from one client and
// waits until a subscriber on another connection of the same library has it.
// One op = one publish→receive; p50/p99 are over all b.N messages.
func BenchmarkPubSubLatency(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()

	b.Run("goredis", func(b *testing.B) {
		ch := fmt.Sprintf("bench:ps:gr:%d", b.N)
		ps := c.gr.Subscribe(ctx, ch)
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil { // subscribe confirmation
			b.Fatal(err)
		}
		got := make(chan struct{}, 1)
		go func() {
			for {
				if _, err := ps.ReceiveMessage(ctx); err != nil {
					return
				}
				got <- struct{}{}
			}
		}()
		publish := func() error { return c.gr.Publish(ctx, ch, invalidMsg).Err() }
		measurePubSub(b, publish, got)
	})

	// The rueidis subscriber gets its own client: rueidis.Client.Receive
	// would otherwise share the publisher's multiplexed connection.
	sub := newRueidis(b, needRedis(b))
	b.Run("rueidis", func(b *testing.B) {
		ch := fmt.Sprintf("bench:ps:ru:%d", b.N)
		got := make(chan struct{}, 1)
		subscribed := make(chan struct{}, 1)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			hctx := rueidis.WithOnSubscriptionHook(rctx, func(s rueidis.PubSubSubscription) {
				if s.Kind == "subscribe" {
					select {
					case subscribed <- struct{}{}:
					default:
					}
				}
			})
			_ = sub.Receive(hctx, sub.B().Subscribe().Channel(ch).Build(), func(rueidis.PubSubMessage) {
				got <- struct{}{}
			})
		}()
		defer func() { cancel(); <-done }()
		<-subscribed
		pub := c.ru.B().Publish().Channel(ch).Message(invalidMsg).Build().Pin()
		publish := func() error { return c.ru.Do(ctx, pub).Error() }
		measurePubSub(b, publish, got)
	})
}

func measurePubSub(b *testing.B, publish func() error, got <-chan struct{}) {
	if err := publish(); err != nil { // warm-up
		b.Fatal(err)
	}
	<-got
	ds := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := publish(); err != nil {
			b.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			b.Fatal("message not received within 5s")
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}

// BenchmarkMissFill is the cache-miss path: GET (nil), SET NX PX lock, then
// the fill script (compare lock token, SET value PX, release the lock).
// Every op uses a fresh key, so every GET misses; values expire after 2s.
func BenchmarkMissFill(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	var seq atomic.Int64
	const lockPX, valuePX = 5000, 2000
	next := func(prefix string) (val, lock, token string) {
		n := seq.Add(1)
		val = prefix + strconv.FormatInt(n, 10)
		return val, val + ":lock", "tok-" + strconv.FormatInt(n, 10)
	}

	grScript := goredis.NewScript(fillSrc)
	grOp := func() {
		key, lock, tok := next("bench:fill:gr:")
		if err := c.gr.Get(ctx, key).Err(); err != goredis.Nil {
			b.Fatalf("go-redis GET: want miss, got %v", err)
		}
		ok, err := c.gr.SetNX(ctx, lock, tok, lockPX*time.Millisecond).Result()
		if err != nil || !ok {
			b.Fatalf("go-redis SET NX PX: %v %v", ok, err)
		}
		n, err := grScript.Run(ctx, c.gr, []string{lock, key}, tok, value1K, valuePX).Int()
		if err != nil || n != 1 {
			b.Fatalf("go-redis fill: %v %v", n, err)
		}
	}

	ruScript := rueidis.NewLuaScript(fillSrc)
	ruOp := func() {
		key, lock, tok := next("bench:fill:ru:")
		if err := c.ru.Do(ctx, c.ru.B().Get().Key(key).Build()).Error(); !rueidis.IsRedisNil(err) {
			b.Fatalf("rueidis GET: want miss, got %v", err)
		}
		err := c.ru.Do(ctx, c.ru.B().Set().Key(lock).Value(tok).Nx().PxMilliseconds(lockPX).Build()).Error()
		if err != nil {
			b.Fatalf("rueidis SET NX PX: %v", err)
		}
		n, err := ruScript.Exec(ctx, c.ru, []string{lock, key}, []string{tok, value1K, strconv.Itoa(valuePX)}).AsInt64()
		if err != nil || n != 1 {
			b.Fatalf("rueidis fill: %v %v", n, err)
		}
	}

	for _, cl := range []struct {
		name string
		op   func()
	}{{"goredis", grOp}, {"rueidis", ruOp}} {
		b.Run(cl.name, func(b *testing.B) {
			cl.op()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cl.op()
			}
			b.StopTimer()
			reportOps(b)
		})
	}
}
