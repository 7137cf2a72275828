package recstore

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type invAlbum struct {
	ID string `jsonapi:"primary,albums"`
}

// TestInvalidate_notesPruned: the notes Invalidate keeps for loads under
// way do not grow with the ids it was ever given.
func TestInvalidate_notesPruned(t *testing.T) {
	s := New(nil)
	defer s.Close()
	MustRegister[invAlbum](s, nil)
	for i := range 10_000 {
		require.NoError(t, s.Invalidate(Key{Type: "albums", ID: fmt.Sprint(i)}))
	}
	tb := s.lookupType("albums")
	assert.LessOrEqual(t, tb.invNotes.Load(), int64(1025), "no load under way: every note goes at each prune")

	// With a load under way since the start, notes stay (it may need
	// them) but pruning stays rare.
	req := s.beginLoad(&Request{})
	for i := range 10_000 {
		require.NoError(t, s.Invalidate(Key{Type: "albums", ID: fmt.Sprint("b", i)}))
	}
	assert.GreaterOrEqual(t, tb.invNotes.Load(), int64(10_000), "the load under way may need every note since it began")
	assert.True(t, tb.invalidatedSince("b9", req.inv), "the load under way sees the note")
	s.endLoad(req)
}
