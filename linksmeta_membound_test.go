package recstore_test

import (
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxLinksReadPerByte is the documented bound (README, "Hostile input")
// on what one read of a links or meta object (Store.Links, Store.Meta,
// Model's, Related's) allocates per byte of the document that carried it:
// every read decodes a map of its own.
const maxLinksReadPerByte = 64

// TestMemoryBound_LinksMeta pushes the worst links and meta objects we
// know of, per byte, and checks what reading one back allocates. Like
// TestMemoryBound, RECSTORE_MEM_MB sets the document size (default 2
// MiB; the figures in the README were taken at 16).
func TestMemoryBound_LinksMeta(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation; CI runs this test without -race")
	}
	size := 2 << 20
	if mb, err := strconv.Atoi(os.Getenv("RECSTORE_MEM_MB")); err == nil && mb > 0 {
		size = mb << 20
	}
	a1 := recstore.Key{Type: "album", ID: "1"}
	resource := func(member, head string, elem func(int) string, tail string) string {
		return memDoc(size, `{"data":{"type":"album","id":"1","`+member+`":`+head, tail+`}}`, elem)
	}
	rel := func(member, head string, elem func(int) string, tail string) string {
		return memDoc(size, `{"data":{"type":"album","id":"1","relationships":{"tracks":{"`+member+`":`+head, tail+`}}}}`, elem)
	}
	empty := func(int) string { return "{}" }
	for _, tc := range []struct {
		name string
		doc  string
		read func(s *recstore.Store) any
	}{
		{"meta of {} elements", resource("meta", `{"a":[`, empty, `]}`), func(s *recstore.Store) any { return s.Meta(a1) }},
		{"links of {} elements", resource("links", `{"a":[`, empty, `]}`), func(s *recstore.Store) any { return s.Links(a1) }},
		{"meta of [] elements", resource("meta", `{"a":[`, func(int) string { return "[]" }, `]}`), func(s *recstore.Store) any { return s.Meta(a1) }},
		{"meta of 0 elements", resource("meta", `{"a":[`, func(int) string { return "0" }, `]}`), func(s *recstore.Store) any { return s.Meta(a1) }},
		{"meta of json.Number elements", resource("meta", `{"a":[9007199254740993,`, func(int) string { return "0" }, `]}`),
			func(s *recstore.Store) any { return s.Meta(a1) }},
		{"meta members", resource("meta", `{`, func(i int) string { return `"` + strconv.Itoa(i) + `":0` }, `}`), func(s *recstore.Store) any { return s.Meta(a1) }},
		{"relationship meta of {} elements", rel("meta", `{"a":[`, empty, `]}`),
			func(s *recstore.Store) any { r, _ := s.Related(a1, "tracks"); return r.Meta }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := recstore.New(&recstore.Options{MaxResources: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
			defer s.Close()
			_, _, _, _, _ = registerAll(t, s)
			doc := []byte(tc.doc)
			_, err := s.Push(doc)
			require.NoError(t, err)
			_, t0 := heap()
			v := tc.read(s)
			_, t1 := heap()
			require.NotNil(t, v, "the object read back")
			runtime.KeepAlive(v)
			read := float64(t1-t0) / float64(len(doc))
			t.Logf("%-40s %5.1f MiB: a read allocates %5.2f B/B", tc.name, float64(len(doc))/(1<<20), read)
			assert.LessOrEqual(t, read, float64(maxLinksReadPerByte), "bytes one read of links or meta allocates per document byte")
		})
	}
}
