package recstoreredis

import (
	"context"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaults_redisRestart: Redis is killed mid-run. Every Store keeps
// answering (from what it holds, and from the backend), reports the
// fault, and keeps its unpublished changes; when Redis is back each
// resyncs (what it holds is stale) and the changes go out.
func TestFaults_redisRestart(t *testing.T) {
	c := newCluster(t, 3, true, nil)
	a, b, d := c.nodes[0], c.nodes[1], c.nodes[2]
	for _, nd := range c.nodes {
		nd.find(t, "1")
		nd.find(t, "2")
	}
	require.Equal(t, 2, c.backend.Calls("FindRecord"))

	server.Stop()
	t.Cleanup(func() { _ = server.Restart() }) // for the tests after, should this one fail
	eventually(t, func() bool { return !b.r.Stats().Connected && !d.r.Stats().Connected }, "the subscriptions were not seen lost")

	// Still serving: held records, and a new one from the backend.
	for _, nd := range c.nodes {
		assert.Equal(t, "one", nd.find(t, "1").Title)
		assert.Equal(t, "three", nd.find(t, "3").Title)
	}
	assert.Equal(t, 5, c.backend.Calls("FindRecord"), "Redis down: each Store asked the backend for album 3")
	assert.NotZero(t, a.cache.Stats().Errors+a.cache.Stats().Bypassed, "the cache reported or skipped Redis")

	// A save while Redis is down: done, and kept to publish.
	_, err := a.albums.Edit("1", func(x *album) { x.Title = "uno" })
	require.NoError(t, err)
	_, err = a.albums.Save(context.Background(), "1")
	require.NoError(t, err)
	eventually(t, func() bool { return a.r.Stats().Queued == 1 }, "the save's message is not queued")
	assert.NotZero(t, a.errs.Load(), "the fault was reported")

	require.NoError(t, server.Restart())
	eventually(t, func() bool {
		return b.r.Stats().Resyncs >= 1 && d.r.Stats().Resyncs >= 1 && a.r.Stats().Queued == 0
	}, "no resync after Redis came back: %+v %+v %+v", a.r.Stats(), b.r.Stats(), d.r.Stats())
	for _, nd := range []*node{b, d} {
		assert.True(t, nd.invalidated("2"), "a Store that may have missed messages holds everything as stale")
		assert.True(t, nd.invalidated("1"))
		assert.Equal(t, "uno", nd.find(t, "1").Title, "nothing lost: the backend has the save")
	}
	eventually(t, func() bool { return a.r.Stats().Connected && b.r.Stats().Connected }, "not reconnected")

	// Replication works again.
	_, err = b.s.Push(albumDoc("2", "deux"))
	require.NoError(t, err)
	eventually(t, func() bool { return d.invalidated("2") || d.albums.Has("2") && d.find(t, "2").Title == "deux" }, "no replication after the restart")
}

// TestFaults_queueLimit: past QueueLimit, a Store that cannot publish
// forgets the records and publishes their type instead.
func TestFaults_queueLimit(t *testing.T) {
	c := newCluster(t, 2, false, &Options{QueueLimit: 2})
	a, b := c.nodes[0], c.nodes[1]
	for _, nd := range c.nodes {
		for _, id := range []string{"1", "2", "3"} {
			nd.find(t, id)
		}
	}
	server.Stop()
	t.Cleanup(func() { _ = server.Restart() })
	for _, id := range []string{"1", "2", "3"} {
		_, err := a.s.Push(albumDoc(id, "changed "+id))
		require.NoError(t, err)
	}
	eventually(t, func() bool {
		a.r.mu.Lock()
		defer a.r.mu.Unlock()
		return a.r.queue.types["albums"] && len(a.r.queue.in) == 0
	}, "the queue did not fall back to the type")
	require.NoError(t, server.Restart())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, a.r.Flush(ctx))
	eventually(t, func() bool { return b.invalidated("1") && b.invalidated("2") && b.invalidated("3") }, "b was not told")
}

// TestFaults_closeWithRedisDown: Close does not hang on a Redis that is
// down, and a Flush after it says what was lost.
func TestFaults_closeWithRedisDown(t *testing.T) {
	c := newCluster(t, 1, true, &Options{Timeout: 100 * time.Millisecond})
	a := c.nodes[0]
	a.find(t, "1")
	server.Stop()
	t.Cleanup(func() { _ = server.Restart() })
	_, err := a.s.Push(albumDoc("1", "x"))
	require.NoError(t, err)
	start := time.Now()
	require.ErrorIs(t, a.r.Close(), ErrRedis, "Close says what it could not publish")
	require.NoError(t, a.r.Close(), "only the first Close reports")
	assert.Less(t, time.Since(start), 2*time.Second, "Close gives up on Redis after about Timeout")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, a.r.Flush(ctx), recstore.ErrClosed, "the push's message was not published")
	require.NoError(t, server.Restart())
}
