package recstore_test

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// panicPoints are the commit points the test hook can panic at; "" never
// panics there, so user code (the Fragile model's json.Unmarshaler and the
// serializer hooks below) is the only source.
var panicPoints = []string{"", "apply", "linkInverse", "publish", "read"}

// FuzzPanics pushes random documents, by every push path, while user code
// and the commit panic at random points. Whatever happens, the Store must
// be as it was unless the push published (no error, or a panic after
// publish), its inverses must agree, and a normal push must then land.
func FuzzPanics(f *testing.F) {
	for i, seed := range pushSeeds {
		f.Add([]byte(seed), uint8(i), uint8(1), uint8(i))
	}
	for i, seed := range []string{
		`{"data": {"type": "fragile", "id": "1", "attributes": {"fuse": "boom"}}}`,
		`{"data": [{"type": "fragile", "id": "2", "attributes": {"name": "boom", "count": 1}}, {"type": "album", "id": "1", "attributes": {"title": "x"}}]}`,
		`{"data": [{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "a"}, {"type": "track", "id": "b"}]}}}], "included": [{"type": "track", "id": "a"}]}`,
		`{"data": {"type": "fragile", "id": "3", "attributes": {"count": 13}}}`,
	} {
		for point := range panicPoints {
			f.Add([]byte(seed), uint8(point), uint8(1+i%3), uint8(i+point))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, point, nth, how uint8) {
		hooks := &recstore.JSONAPISerializer{
			NormalizeHash: func(typ string, h *recstore.Hash) error {
				if how&8 != 0 {
					if v, ok := h.Raw("name"); ok && string(v) == `"boom"` {
						panic("NormalizeHash")
					}
				}
				return nil
			},
			Transforms: map[string]recstore.Transform{"count": recstore.TransformFuncs{
				DeserializeFunc: func(v any) (any, error) {
					if how&16 != 0 && fmt.Sprint(v) == "13" {
						panic("Transform")
					}
					return v, nil
				},
			}},
		}
		opts := fuzzOptions()
		opts.Serializer = hooks
		opts.Logger = slog.New(slog.DiscardHandler)
		s, albums, _, _, _ := newStore(t, opts)
		recstore.MustRegister[Fragile](s, nil)
		_, err := s.Push(base)
		require.NoError(t, err)
		before := recstore.Dump(s)

		where := panicPoints[int(point)%len(panicPoints)]
		calls, published := 0, false
		recstore.SetTestHook(s, func(p string) {
			if p == "read" {
				published = true
			}
			if p == where {
				if calls++; calls == int(nth) {
					panic("injected at " + p)
				}
			}
		})
		panicked := false
		func() {
			defer func() { panicked = recover() != nil }()
			switch how % 4 {
			case 0:
				_, err = s.Push(doc)
			case 1:
				_, err = albums.Push(doc)
			case 2:
				_, err = s.PushPayload("", doc)
			case 3:
				_, err = albums.PushPayload(doc)
			}
		}()
		recstore.SetTestHook(s, nil)
		if (panicked && !published) || (!panicked && err != nil) {
			requireUnchanged(t, s, before)
		}
		require.NoError(t, recstore.CheckInverses(s))

		_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "normal"}, "relationships": {"tracks": {"data": [{"type": "track", "id": "n"}]}}}}`)
		require.NoError(t, err)
		a, ok := albums.Peek("1")
		require.True(t, ok)
		require.Equal(t, "normal", a.Title)
		require.Len(t, a.Tracks, 0) // track n is not loaded
		require.NoError(t, recstore.CheckInverses(s))
	})
}
