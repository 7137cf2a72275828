package recstoreredis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoreredis/internal/redisserver"
	"github.com/recstore/recstore/recstoretest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// server is the redis-server TestMain started, or nil; noServer says why.
var (
	server   *redisserver.Server
	noServer error
)

func TestMain(m *testing.M) {
	server, noServer = redisserver.Start()
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	os.Exit(code)
}

// needRedis skips tb when no redis-server could be started, unless
// RECSTORE_REDIS_REQUIRED is set (as .ci/run sets it once it installed
// one): then a missing server fails.
func needRedis(tb testing.TB) *redisserver.Server {
	tb.Helper()
	if server == nil {
		if os.Getenv("RECSTORE_REDIS_REQUIRED") != "" {
			tb.Fatalf("RECSTORE_REDIS_REQUIRED is set but redis-server could not start: %v", noServer)
		}
		tb.Skipf("SKIP: no real Redis to test against: %v", noServer)
	}
	return server
}

var channels atomic.Int64

// newChannel names a channel (and key prefix) of its own for a test.
func newChannel() string { return fmt.Sprintf("test%d", channels.Add(1)) }

type album struct {
	ID        string `jsonapi:"primary,albums"`
	Title     string `jsonapi:"attr,title"`
	SongCount int    `jsonapi:"attr,songCount"`
}

func albumDoc(id, title string) string {
	return fmt.Sprintf(`{"data": {"type": "albums", "id": %q, "attributes": {"title": %q}}}`, id, title)
}

// node is one replica: a Store with its own Redis client, as one process
// of a service would have.
type node struct {
	s      *recstore.Store
	albums *recstore.Model[album]
	r      *Replica
	cache  *Cache
	client rueidis.Client
	errs   atomic.Int64
}

type cluster struct {
	channel string
	backend *recstoretest.MemoryAdapter
	nodes   []*node
}

// newCluster starts n replicas on one backend and one Redis; withCache
// puts a Cache in front of the backend in each.
func newCluster(t testing.TB, n int, withCache bool, opts *Options) *cluster {
	t.Helper()
	srv := needRedis(t)
	c := &cluster{channel: newChannel(), backend: recstoretest.NewMemoryAdapter(albumDoc("1", "one"), albumDoc("2", "two"), albumDoc("3", "three"))}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range n {
		cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr()}, DisableCache: true})
		require.NoError(t, err)
		nd := &node{client: cl}
		var ad recstore.Adapter = c.backend
		if withCache {
			nd.cache, err = NewCache(cl, c.backend, &CacheOptions{Channel: c.channel, Logger: quiet, RetryAfter: 50 * time.Millisecond})
			require.NoError(t, err)
			ad = nd.cache
		}
		nd.s = recstore.New(&recstore.Options{Adapter: ad, Logger: quiet})
		nd.albums = recstore.MustRegister[album](nd.s, nil)
		o := Options{}
		if opts != nil {
			o = *opts
		}
		o.Channel, o.Cache, o.Logger = c.channel, nd.cache, quiet
		o.OnError = func(error) { nd.errs.Add(1) }
		nd.r, err = Replicate(nd.s, cl, &o)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, nd.r.Ready(ctx))
		cancel()
		c.nodes = append(c.nodes, nd)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			_ = nd.r.Close() // a test that stopped Redis may leave changes unpublished
			nd.s.Close()
			nd.client.Close()
		}
	})
	return c
}

// find loads album id in nd, failing the test on error.
func (nd *node) find(t testing.TB, id string) album {
	t.Helper()
	a, err := nd.albums.Find(context.Background(), id, &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	return a
}

func (nd *node) invalidated(id string) bool {
	_, f, ok := nd.albums.PeekFreshness(id)
	return ok && f.Invalidated
}

// eventually waits up to 5s for cond.
func eventually(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: "+msg, args...)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// publishRaw publishes b on the cluster's channel, as another program
// (or a late message) would.
func (c *cluster) publishRaw(t testing.TB, b string) {
	t.Helper()
	cl := c.nodes[0].client
	require.NoError(t, cl.Do(context.Background(), cl.B().Publish().Channel(c.channel).Message(b).Build()).Error())
}

var errBackend = errors.New("backend down")
