// Command replicas runs three Stores in one program, each as a Replica of
// the others, as three processes of a service would be: each has its own
// Redis client and its own Cache in front of one shared backend. It shows
// a miss shared by the three making one backend call, and one write
// making the other two Stores' copies stale.
//
// Run it from the recstoreredis module:
//
//	cd recstoreredis && go run ./examples/replicas
//
// It uses the Redis at REDIS_ADDR (host:port) if that is set, and
// otherwise starts a throw-away redis-server on a free local port (which
// must be installed) and stops it at the end.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoreredis"
	"github.com/recstore/recstore/recstoreredis/internal/redisserver"
	"github.com/recstore/recstore/recstoretest"
	"github.com/redis/rueidis"
)

// Album is the model the three Stores hold.
type Album struct {
	ID    string `jsonapi:"primary,albums"`
	Title string `jsonapi:"attr,title"`
}

// countingBackend counts the backend's FindRecord calls. Every other call
// (the save) reaches the memory adapter through Unwrap.
type countingBackend struct {
	next  recstore.Adapter
	finds atomic.Int64
}

func (b *countingBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	b.finds.Add(1)
	return b.next.FindRecord(ctx, req)
}

func (b *countingBackend) Unwrap() recstore.Adapter { return b.next }

// replica is one of the three: a Store, its Cache, its Replica, its client.
type replica struct {
	name   string
	client rueidis.Client
	cache  *recstoreredis.Cache
	store  *recstore.Store
	albums *recstore.Model[Album]
	r      *recstoreredis.Replica
}

func main() { os.Exit(start()) }

// start finds or starts Redis, runs the example and stops what it started.
func start() int {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		srv, err := redisserver.Start()
		if errors.Is(err, redisserver.ErrNotInstalled) {
			fmt.Fprintln(os.Stderr, "replicas: redis-server is not installed: install it (apt-get install redis-server) or set REDIS_ADDR to a Redis host:port")
			return 1
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "replicas:", err)
			return 1
		}
		defer srv.Stop()
		addr = srv.Addr()
	}
	if err := run(addr); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		return 1
	}
	return 0
}

func run(addr string) error {
	ctx := context.Background()
	memory := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "Blue"}}}`)
	memory.Delay = 20 * time.Millisecond // a backend that takes its time
	backend := &countingBackend{next: memory}
	// A channel of the program's own, so that a shared Redis (REDIS_ADDR)
	// holds nothing from an earlier run under it.
	channel := fmt.Sprintf("replicas-example-%d", time.Now().UnixNano())

	var nodes []*replica
	defer func() {
		for _, n := range nodes { // Replica first, then Store, then client
			n.r.Close()
			n.store.Close()
			n.client.Close()
		}
	}()
	for _, name := range []string{"A", "B", "C"} {
		client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
		if err != nil {
			return fmt.Errorf("connecting to Redis at %s: %w", addr, err)
		}
		n := &replica{name: name, client: client}
		if n.cache, err = recstoreredis.NewCache(client, backend, &recstoreredis.CacheOptions{Channel: channel}); err != nil {
			client.Close()
			return err
		}
		n.store = recstore.New(&recstore.Options{Adapter: n.cache})
		n.albums = recstore.MustRegister[Album](n.store, nil)
		if n.r, err = recstoreredis.Replicate(n.store, client, &recstoreredis.Options{Channel: channel, Cache: n.cache}); err != nil {
			n.store.Close()
			client.Close()
			return err
		}
		nodes = append(nodes, n)
		readyCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = n.r.Ready(readyCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("replica %s not subscribed: %w", name, err)
		}
	}
	fmt.Println("three replicas, A, B and C, share one Redis and one backend (20ms a call)")

	// Scene 1: the three miss album 1 at once.
	fmt.Println("\nscene 1: A, B and C find album 1 at the same time")
	var wg sync.WaitGroup
	titles := make([]string, len(nodes))
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() {
			a, err := n.albums.Find(ctx, "1", nil)
			titles[i], errs[i] = a.Title, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, n := range nodes {
		fmt.Printf("  %s sees %q\n", n.name, titles[i])
	}
	fmt.Printf("  backend calls: %d\n", backend.finds.Load())
	// Which replica takes the lock varies from run to run; the totals do not.
	printCaches(nodes)

	// Scene 2: A edits album 1 and saves it.
	fmt.Println("\nscene 2: A renames album 1 and saves it")
	a, b, c := nodes[0], nodes[1], nodes[2]
	if _, err := a.albums.Edit("1", func(x *Album) { x.Title = "Kind of Blue" }); err != nil {
		return err
	}
	if _, err := a.albums.Save(ctx, "1"); err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for _, n := range []*replica{b, c} {
		for {
			if _, f, ok := n.albums.PeekFreshness("1"); ok && f.Invalidated {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("replica %s did not hear of A's save within 5s", n.name)
			}
			time.Sleep(time.Millisecond)
		}
	}
	fmt.Println("  B and C: album 1 is stale")
	fmt.Printf("  (heard within %v)\n", time.Since(start).Round(time.Millisecond))
	for _, n := range []*replica{b, c} {
		x, err := n.albums.Find(ctx, "1", nil)
		if err != nil {
			return err
		}
		fmt.Printf("  %s finds it again: %q\n", n.name, x.Title)
	}
	fmt.Printf("  backend calls: %d\n", backend.finds.Load())
	printCaches(nodes)

	fmt.Println("\nreplicas:")
	for _, n := range nodes {
		if err := n.r.Flush(ctx); err != nil {
			return err
		}
		st := n.r.Stats()
		fmt.Printf("  %s: published %d, received %d, invalidated %d, errors %d\n",
			n.name, st.Published, st.Received, st.Invalidated, st.Errors)
	}
	return nil
}

// printCaches prints each Cache's counters, then their totals.
func printCaches(nodes []*replica) {
	var hits, misses, waits uint64
	for _, n := range nodes {
		st := n.cache.Stats()
		fmt.Printf("    cache %s: hits=%d misses=%d waits=%d\n", n.name, st.Hits, st.Misses, st.Waits)
		hits, misses, waits = hits+st.Hits, misses+st.Misses, waits+st.Waits
	}
	fmt.Printf("  all caches so far: hits=%d (read from Redis) misses=%d (sent to the backend) waits=%d (for another replica's miss)\n", hits, misses, waits)
}
