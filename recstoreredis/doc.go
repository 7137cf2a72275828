// Package recstoreredis keeps the recstore Stores of several replicas of
// a service in step through Redis: what changes a record in one Store
// makes it stale in the others (Replicate), and a cache in Redis shared
// by all of them answers their misses before the backend does (Cache).
//
// It is a module of its own, so that the recstore core keeps no
// third-party dependency. It uses the rueidis client, chosen by
// measurement: under concurrency it did 2.4 times go-redis's throughput
// on the calls this package makes (see internal/redisbench in the
// repository).
//
// Quick start, in each replica:
//
//	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
//	cache, err := recstoreredis.NewCache(client, &recstore.HTTPAdapter{Host: backend}, nil)
//	store := recstore.New(&recstore.Options{Adapter: cache})
//	albums := recstore.MustRegister[Album](store, nil)
//	replica, err := recstoreredis.Replicate(store, client, &recstoreredis.Options{Cache: cache})
//	defer client.Close()
//	defer store.Close()
//	defer replica.Close()
//	a, err := albums.Find(ctx, "1", nil) // a miss: Redis first, then the backend
//	// A save here makes album 1 stale in every other replica within a
//	// millisecond, and drops its copy from Redis.
//
// Consistency: staleness is bounded by the time a message takes (about
// 0.1-0.5 ms on loopback) for writes made through a Store that
// replicates, and by the Stores' expiry (recstore.Expiry) and
// CacheOptions.TTL for writes made to the backend by anyone else or lost
// with a replica that crashed before publishing. While Redis is down the
// Stores keep answering from what they hold and from the backend; when it
// is back, a Store that lost its subscription holds everything as stale.
// The repository's docs/design.md ("Many replicas over Redis") has the
// model, the message format and the keys in Redis.
//
// Run `cd recstoreredis && go run ./examples/replicas` to see three
// Stores share one local redis-server.
package recstoreredis
