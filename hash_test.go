package recstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A NormalizeHash hook may reshape a hash of any size member by member:
// deleting or renaming each of 200,000 members costs linear time (they
// were quadratic: each Delete shifted the members and dropped the index),
// and iterating with All while deleting visits every member once.
func TestHash_ReshapeHugeHash(t *testing.T) {
	const n = 200_000
	var b strings.Builder
	b.WriteString(`{"id": 1, "title": "kept"`)
	for i := range n {
		fmt.Fprintf(&b, `, "junk%d": %d`, i, i)
	}
	b.WriteString(`, "old_body": "renamed"}`)
	tests := []struct {
		name string
		hook func(h *recstore.Hash) error
	}{
		{"delete while iterating", func(h *recstore.Hash) error {
			visited := 0
			for k := range h.All() {
				visited++
				if strings.HasPrefix(k, "junk") {
					h.Delete(k)
				}
			}
			if visited != n+3 {
				return fmt.Errorf("visited %d members, want %d", visited, n+3)
			}
			return nil
		}},
		{"delete by name", func(h *recstore.Hash) error {
			for i := range n {
				h.Delete(fmt.Sprintf("junk%d", i))
			}
			return nil
		}},
		{"rename onto others", func(h *recstore.Hash) error {
			for i := range n - 1 {
				h.Rename(fmt.Sprintf("junk%d", i), fmt.Sprintf("junk%d", i+1))
			}
			h.Delete(fmt.Sprintf("junk%d", n-1))
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ser := &recstore.JSONSerializer{NormalizeHash: func(typ string, h *recstore.Hash) error {
				if err := tt.hook(h); err != nil {
					return err
				}
				if h.Len() != 3 {
					return fmt.Errorf("%d members left, want 3: %.200s", h.Len(), h.String())
				}
				h.Rename("old_body", "body")
				return nil
			}}
			s := recstore.New(&recstore.Options{Serializer: ser, MaxDocumentBytes: 16 << 20})
			comments := recstore.MustRegister[Comment](s, nil)
			got, err := comments.PushPayload(b.String())
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, Comment{ID: "1", Body: "renamed"}, got[0])
		})
	}
}

// Hash methods keep their meaning with members deleted and renamed:
// order, replacement by Rename, re-adding after Delete.
func TestHash_Methods(t *testing.T) {
	var got string
	ser := &recstore.JSONSerializer{NormalizeHash: func(typ string, h *recstore.Hash) error {
		h.Delete("a")
		h.Rename("b", "c") // replaces c, in c's place
		require.NoError(t, h.Set("a", 9))
		h.Rename("d", "e")
		got = h.String()
		assert.Equal(t, 4, h.Len())
		assert.False(t, h.Has("b"))
		return nil
	}}
	s := recstore.New(&recstore.Options{Serializer: ser})
	recstore.MustRegister[Comment](s, nil)
	_, err := s.PushPayload("comment", `{"id": 1, "a": 1, "b": 2, "c": 3, "d": 4}`)
	require.NoError(t, err)
	assert.Equal(t, `{"id":1,"c":2,"e":4,"a":9}`, got)
}
