package recstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func waitWithin(s *recstore.Store, d time.Duration) (done chan struct{}, ok bool) {
	done = make(chan struct{})
	go func() { s.Wait(); close(done) }()
	select {
	case <-done:
		return done, true
	case <-time.After(d):
		return done, false
	}
}

// A queued reload that starts nothing (its record was unloaded while it
// waited) must not strand the rest of the queue, and Close wakes a Wait.
func TestReloadQueueGoesOnAfterAStartThatTakesNoSlot(t *testing.T) {
	fb := newFakeBackend()
	fb.records["album:3"] = `{"type": "album", "id": "3"}`
	fb.gate = make(chan struct{})
	s, albums := findStore(t, fb, &recstore.Options{MaxBackgroundReloads: 1})
	for _, id := range []string{"1", "2", "3"} {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": %q}}`, id))
		require.NoError(t, err)
		_, err = albums.Find(context.Background(), id, nil) // 1 runs, 2 and 3 queue
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return fb.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Unload(recstore.Key{Type: "album", ID: "2"}))
	close(fb.gate)
	done, ok := waitWithin(s, 10*time.Second)
	assert.True(t, ok, "Wait returns: album 3 is not stranded in the queue")
	assert.EqualValues(t, 2, fb.calls.Load(), "album 3 reloaded")
	s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("Close dropped the queue but the blocked Wait was never woken")
	}
}

// Nor must a queued reload that joins a foreground call under way.
func TestReloadQueueGoesOnAfterAJoin(t *testing.T) {
	fb := newFakeBackend()
	fb.records["album:3"] = `{"type": "album", "id": "3"}`
	gate1, gate2 := make(chan struct{}), make(chan struct{})
	fb.before = func(r *recstore.Request) {
		switch r.ID {
		case "1":
			<-gate1
		case "2":
			<-gate2
		}
	}
	s, albums := findStore(t, fb, &recstore.Options{MaxBackgroundReloads: 1})
	for _, id := range []string{"1", "2", "3"} {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": %q}}`, id))
		require.NoError(t, err)
		_, err = albums.Find(context.Background(), id, nil)
		require.NoError(t, err)
	}
	fg := make(chan error)
	go func() {
		_, err := albums.Find(context.Background(), "2", &recstore.FindOptions{Reload: recstore.ReloadAlways})
		fg <- err
	}()
	require.Eventually(t, func() bool { return recstore.Waiters(s, "album", "2") == 1 }, 5*time.Second, time.Millisecond)
	close(gate1) // 1 ends; the queued 2 joins the foreground flight, taking no slot
	time.Sleep(50 * time.Millisecond)
	close(gate2)
	require.NoError(t, <-fg)
	_, ok := waitWithin(s, 10*time.Second)
	assert.True(t, ok, "Wait returns: album 3 is not stranded in the queue")
}

// A coalesced group lands all its flights before it reports background
// errors: a foreground Find in it does not wait on another record's
// OnBackgroundError.
func TestCoalescedFindDoesNotWaitForAnotherRecordsReport(t *testing.T) {
	fb := backendWith(3)
	release := make(chan struct{})
	defer close(release)
	s, albums := findStore(t, fb, &recstore.Options{
		Coalesce:          &recstore.CoalesceOptions{Window: 30 * time.Millisecond},
		OnBackgroundError: func(error) { <-release }, // e.g. a send to a channel the Find's caller reads
	})
	_, err := s.Push(`{"data": {"type": "album", "id": "9"}}`) // cached, gone from the backend
	require.NoError(t, err)
	_, err = albums.Find(context.Background(), "9", nil) // background reload joins the batch first
	require.NoError(t, err)
	res := make(chan error, 1)
	go func() { _, err := albums.Find(context.Background(), "1", noBackground); res <- err }()
	select {
	case err := <-res:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Find of album 1 blocked behind OnBackgroundError for album 9")
	}
}

// A queued reload keeps a copy of the caller's Include list.
func TestQueuedReloadKeepsItsOwnInclude(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	s, albums := findStore(t, fb, &recstore.Options{MaxBackgroundReloads: 1})
	for _, id := range []string{"1", "2"} {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": %q}}`, id))
		require.NoError(t, err)
	}
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	opts := &recstore.FindOptions{Include: []string{"label"}}
	_, err = albums.Find(context.Background(), "2", opts) // queued
	require.NoError(t, err)
	opts.Include[0] = "tracks" // the caller reuses its options after Find returned
	close(fb.gate)
	s.Wait()
	fb.mu.Lock()
	defer fb.mu.Unlock()
	for _, r := range fb.seen {
		if r.ID == "2" {
			assert.Equal(t, []string{"label"}, r.Include)
		}
	}
}

// A coalesced group that a foreground caller leaves, with only background
// reloads still in it, is bounded by BackgroundTimeout as they would be.
func TestCoalescedGroupLeftToBackgroundReloadsIsBounded(t *testing.T) {
	fb := backendWith(3)
	fb.gate = make(chan struct{})
	defer close(fb.gate)
	s, albums := findStore(t, fb, &recstore.Options{
		Coalesce:          &recstore.CoalesceOptions{Window: 50 * time.Millisecond},
		BackgroundTimeout: 50 * time.Millisecond,
		OnBackgroundError: func(error) {},
	})
	_, err := s.Push(`{"data": {"type": "album", "id": "2"}}`)
	require.NoError(t, err)
	_, err = albums.Find(context.Background(), "2", nil) // a background reload joins the batch
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	fg := make(chan error, 1)
	go func() { _, err := albums.Find(ctx, "1", noBackground); fg <- err }()
	require.Eventually(t, func() bool { return fb.calls.Load() >= 1 }, 10*time.Second, time.Millisecond, "the call is under way")
	cancel()
	assert.ErrorIs(t, <-fg, context.Canceled)
	_, ok := waitWithin(s, 10*time.Second)
	assert.True(t, ok, "the hanging call was cut off by BackgroundTimeout")
}
