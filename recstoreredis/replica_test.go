package recstoreredis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplica_saveInvalidatesTheOthers: three Stores, one Redis. A save
// in one marks the record stale in the two others, and only there; their
// next Find reloads it; their reloads are not published again.
func TestReplica_saveInvalidatesTheOthers(t *testing.T) {
	c := newCluster(t, 3, false, nil)
	a, b, d := c.nodes[0], c.nodes[1], c.nodes[2]
	for _, nd := range c.nodes {
		assert.Equal(t, "one", nd.find(t, "1").Title)
	}
	_, err := a.albums.Edit("1", func(x *album) { x.Title = "uno" })
	require.NoError(t, err)
	_, err = a.albums.Save(context.Background(), "1")
	require.NoError(t, err)

	eventually(t, func() bool { return b.invalidated("1") && d.invalidated("1") }, "the others did not mark album 1 stale")
	assert.False(t, a.invalidated("1"), "a Store never reacts to its own message")
	assert.False(t, b.invalidated("2"), "only the record saved")
	assert.Equal(t, "uno", b.find(t, "1").Title, "the next Find reloads")
	assert.Equal(t, "uno", d.find(t, "1").Title)
	assert.False(t, b.invalidated("1"))

	require.NoError(t, b.r.Flush(context.Background()))
	require.NoError(t, d.r.Flush(context.Background()))
	require.NoError(t, a.r.Flush(context.Background()))
	assert.Equal(t, uint64(1), a.r.Stats().Published)
	assert.Equal(t, uint64(0), b.r.Stats().Published, "a reload a message asked for is not news")
	assert.Equal(t, uint64(0), d.r.Stats().Published)
	assert.Equal(t, uint64(1), a.r.Stats().Own)
	assert.Equal(t, uint64(1), b.r.Stats().Received)
	assert.Zero(t, a.errs.Load()+b.errs.Load()+d.errs.Load(), "no faults")
}

// TestReplica_whatIsPublished: pushes that change a held record, saves and
// unloads are published; a first load, a local edit not saved, and an
// eviction are not.
func TestReplica_whatIsPublished(t *testing.T) {
	c := newCluster(t, 2, false, nil)
	a, b := c.nodes[0], c.nodes[1]
	ctx := context.Background()
	for _, id := range []string{"1", "2", "3"} {
		a.find(t, id)
		b.find(t, id)
	}
	published := func() uint64 {
		require.NoError(t, a.r.Flush(ctx))
		return a.r.Stats().PublishedRecords
	}
	require.Equal(t, uint64(0), published(), "first loads are not news")

	_, err := a.albums.Edit("1", func(x *album) { x.Title = "local" })
	require.NoError(t, err)
	assert.Equal(t, uint64(0), published(), "an edit not saved is not news")
	require.NoError(t, a.albums.Rollback("1"))

	_, err = a.s.Push(albumDoc("2", "pushed"))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), published(), "a push that changes a held record is")
	eventually(t, func() bool { return b.invalidated("2") }, "b did not hear of the push")

	_, err = a.s.Push(albumDoc("2", "pushed"))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), published(), "a push that changes nothing is not")

	require.NoError(t, a.albums.Unload("3"))
	assert.Equal(t, uint64(2), published(), "an unload is")
	eventually(t, func() bool { return b.invalidated("3") }, "b did not hear of the unload")
	assert.True(t, b.albums.Has("3"), "marked stale, not unloaded (Options.Unload is off)")

	// A deletion saved: the others unload the record.
	require.NoError(t, a.albums.Delete("1"))
	_, err = a.albums.Save(ctx, "1")
	require.NoError(t, err)
	eventually(t, func() bool { return !b.albums.Has("1") }, "b still lists album 1, deleted")
}

// TestReplica_unloadMode: with Options.Unload the others unload what
// changed, except a record with local changes, which is marked stale and
// keeps its edit.
func TestReplica_unloadMode(t *testing.T) {
	c := newCluster(t, 2, false, &Options{Unload: true})
	a, b := c.nodes[0], c.nodes[1]
	for _, id := range []string{"1", "2"} {
		a.find(t, id)
		b.find(t, id)
	}
	_, err := b.albums.Edit("2", func(x *album) { x.Title = "mine" })
	require.NoError(t, err)
	_, err = a.s.Push(`{"data": [` + albumDoc("1", "new")[9:len(albumDoc("1", "new"))-1] + `,` + albumDoc("2", "new")[9:len(albumDoc("2", "new"))-1] + `]}`)
	require.NoError(t, err)
	eventually(t, func() bool { return !b.albums.Has("1") }, "b did not unload album 1")
	eventually(t, func() bool { return b.invalidated("2") }, "b did not mark album 2 stale")
	got, ok := b.albums.Peek("2")
	require.True(t, ok)
	assert.Equal(t, "mine", got.Title, "a local edit is never lost")
	require.NoError(t, b.r.Flush(context.Background()))
	assert.Equal(t, uint64(0), b.r.Stats().Published, "an unload for a message is not published back")
}

// TestReplica_versionsOutOfOrder: a message no newer than what a Store
// knows of a record leaves it alone (the ordering guard).
func TestReplica_versionsOutOfOrder(t *testing.T) {
	c := newCluster(t, 1, false, nil)
	b := c.nodes[0]
	b.find(t, "1")
	msg := func(ver int) string {
		return fmt.Sprintf(`{"v":1,"ver":%d,"from":"elsewhere","changed":[{"type":"albums","id":"1"}]}`, ver)
	}
	c.publishRaw(t, msg(1000))
	eventually(t, func() bool { return b.invalidated("1") }, "version 1000 did not mark album 1 stale")
	b.find(t, "1") // reloaded: fresh again
	require.False(t, b.invalidated("1"))

	c.publishRaw(t, msg(999)) // late: older than what b applied
	c.publishRaw(t, msg(1000))
	c.publishRaw(t, msg(1001)) // newer: applies
	eventually(t, func() bool { return b.r.Stats().Received == 4 }, "messages not received")
	assert.Equal(t, uint64(2), b.r.Stats().Late, "999 and the repeated 1000 were left out")
	assert.True(t, b.invalidated("1"), "1001 applied")
}

// TestReplica_badMessages: what cannot be read is counted and reported,
// never a panic, and the next good message still applies.
func TestReplica_badMessages(t *testing.T) {
	c := newCluster(t, 1, false, nil)
	b := c.nodes[0]
	b.find(t, "1")
	for _, bad := range []string{``, `{`, `[]`, `{"v":2,"ver":5}`, `{"v":1}`, `{"v":1,"ver":-1}`, `{"v":1,"ver":5,"changed":{"type":1}}`, `{"v":1,"ver":5} {}`} {
		c.publishRaw(t, bad)
	}
	// Unknown types, empty ids and types not replicated are skipped.
	c.publishRaw(t, `{"v":1,"ver":5,"changed":[{"type":"nope","id":"1"},{"type":"albums","id":""}],"types":["nope"]}`)
	c.publishRaw(t, `{"v":1,"ver":6,"changed":[{"type":"albums","id":"1"}]}`)
	eventually(t, func() bool { return b.invalidated("1") }, "the good message did not apply")
	assert.Equal(t, uint64(8), b.r.Stats().BadMessages)
	assert.Equal(t, int64(8), b.errs.Load())
}

// TestReplica_types: a message naming a type makes all its records stale.
func TestReplica_types(t *testing.T) {
	c := newCluster(t, 1, false, nil)
	b := c.nodes[0]
	b.find(t, "1")
	b.find(t, "2")
	c.publishRaw(t, `{"v":1,"ver":7,"types":["albums"]}`)
	eventually(t, func() bool { return b.invalidated("1") && b.invalidated("2") }, "the type was not made stale")
}

// TestReplica_panickingOnError: a panic in OnError loses the report and
// nothing else.
func TestReplica_panickingOnError(t *testing.T) {
	c := newCluster(t, 1, false, nil)
	b := c.nodes[0]
	b.r.opts.OnError = func(error) { panic("boom") }
	b.find(t, "1")
	c.publishRaw(t, `not json`)
	c.publishRaw(t, `{"v":1,"ver":9,"changed":[{"type":"albums","id":"1"}]}`)
	eventually(t, func() bool { return b.invalidated("1") }, "a panicking OnError stopped the replica")
}

// TestReplicate_nil: nil arguments are an error.
func TestReplicate_nil(t *testing.T) {
	_, err := Replicate(nil, nil, nil)
	require.ErrorIs(t, err, ErrNil)
	_, err = NewCache(nil, nil, nil)
	require.ErrorIs(t, err, ErrNil)
}

// TestReplicate_config: a Cache that would keep copies no message drops
// is refused.
func TestReplicate_config(t *testing.T) {
	srv := needRedis(t)
	cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr()}, DisableCache: true})
	require.NoError(t, err)
	defer cl.Close()
	s := recstore.New(nil)
	defer s.Close()
	mem := recstoretest.NewMemoryAdapter()
	for _, tc := range []struct {
		cache CacheOptions
		rep   Options
	}{
		{CacheOptions{Channel: "a"}, Options{Channel: "b"}},
		{CacheOptions{}, Options{Types: []string{"albums"}}},
		{CacheOptions{Types: []string{"albums", "artists"}}, Options{Types: []string{"albums"}}},
	} {
		cache, err := NewCache(cl, mem, &tc.cache)
		require.NoError(t, err)
		tc.rep.Cache = cache
		_, err = Replicate(s, cl, &tc.rep)
		require.ErrorIs(t, err, ErrConfig, "%+v %+v", tc.cache, tc.rep)
	}
}

// TestReplica_versions: the counter is seeded from Redis's clock, so it
// does not go back when its key is lost; a bogus huge version is refused.
func TestReplica_versions(t *testing.T) {
	c := newCluster(t, 2, false, nil)
	a, b := c.nodes[0], c.nodes[1]
	a.find(t, "1")
	b.find(t, "1")
	save := func(title string) {
		_, err := a.s.Push(albumDoc("1", title))
		require.NoError(t, err)
		eventually(t, func() bool { return b.invalidated("1") }, "b did not hear of %q", title)
		b.find(t, "1")
	}
	save("x")
	k := keys{c.channel}
	require.NoError(t, a.client.Do(context.Background(), a.client.B().Del().Key(k.ver()).Build()).Error())
	save("y") // a counter started again is still ahead
	assert.Zero(t, b.r.Stats().Late)

	c.publishRaw(t, `{"v":1,"ver":18446744073709551615,"changed":[{"type":"albums","id":"1"}]}`)
	eventually(t, func() bool { return b.r.Stats().BadMessages == 1 }, "the huge version was not refused")
	save("z")
}

// TestReplica_everyWriteReachesTheOthers: writes in quick succession to
// one record each reach the other Store, also those made while a message
// naming the record was in flight (they were once merged into it, and
// lost).
func TestReplica_everyWriteReachesTheOthers(t *testing.T) {
	c := newCluster(t, 2, false, nil)
	a, b := c.nodes[0], c.nodes[1]
	a.find(t, "1")
	heard := make(chan struct{}, 64)
	b.r.applied = func(*message) { heard <- struct{}{} }
	b.find(t, "1")
	for i := range 50 {
		_, err := a.s.Push(albumDoc("1", fmt.Sprint("title ", i)))
		require.NoError(t, err)
		select {
		case <-heard:
		case <-time.After(5 * time.Second):
			t.Fatalf("write %d did not reach the other Store: %+v", i, a.r.Stats())
		}
	}
}
