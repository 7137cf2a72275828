package recstore_test

import (
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Wide has 64 relationships, 32 to-many pairs that are each other's
// inverses: a document linking one Wide to many others gives each of them
// inverse state. Its struct is 1.5 KiB: the memory bound counts it per
// resource.
type Wide struct {
	ID    string  `jsonapi:"primary,wide"`
	Out00 []*Wide `jsonapi:"relation,out00" recstore:"inverse=in00"`
	In00  []*Wide `jsonapi:"relation,in00" recstore:"inverse=out00"`
	Out01 []*Wide `jsonapi:"relation,out01" recstore:"inverse=in01"`
	In01  []*Wide `jsonapi:"relation,in01" recstore:"inverse=out01"`
	Out02 []*Wide `jsonapi:"relation,out02" recstore:"inverse=in02"`
	In02  []*Wide `jsonapi:"relation,in02" recstore:"inverse=out02"`
	Out03 []*Wide `jsonapi:"relation,out03" recstore:"inverse=in03"`
	In03  []*Wide `jsonapi:"relation,in03" recstore:"inverse=out03"`
	Out04 []*Wide `jsonapi:"relation,out04" recstore:"inverse=in04"`
	In04  []*Wide `jsonapi:"relation,in04" recstore:"inverse=out04"`
	Out05 []*Wide `jsonapi:"relation,out05" recstore:"inverse=in05"`
	In05  []*Wide `jsonapi:"relation,in05" recstore:"inverse=out05"`
	Out06 []*Wide `jsonapi:"relation,out06" recstore:"inverse=in06"`
	In06  []*Wide `jsonapi:"relation,in06" recstore:"inverse=out06"`
	Out07 []*Wide `jsonapi:"relation,out07" recstore:"inverse=in07"`
	In07  []*Wide `jsonapi:"relation,in07" recstore:"inverse=out07"`
	Out08 []*Wide `jsonapi:"relation,out08" recstore:"inverse=in08"`
	In08  []*Wide `jsonapi:"relation,in08" recstore:"inverse=out08"`
	Out09 []*Wide `jsonapi:"relation,out09" recstore:"inverse=in09"`
	In09  []*Wide `jsonapi:"relation,in09" recstore:"inverse=out09"`
	Out10 []*Wide `jsonapi:"relation,out10" recstore:"inverse=in10"`
	In10  []*Wide `jsonapi:"relation,in10" recstore:"inverse=out10"`
	Out11 []*Wide `jsonapi:"relation,out11" recstore:"inverse=in11"`
	In11  []*Wide `jsonapi:"relation,in11" recstore:"inverse=out11"`
	Out12 []*Wide `jsonapi:"relation,out12" recstore:"inverse=in12"`
	In12  []*Wide `jsonapi:"relation,in12" recstore:"inverse=out12"`
	Out13 []*Wide `jsonapi:"relation,out13" recstore:"inverse=in13"`
	In13  []*Wide `jsonapi:"relation,in13" recstore:"inverse=out13"`
	Out14 []*Wide `jsonapi:"relation,out14" recstore:"inverse=in14"`
	In14  []*Wide `jsonapi:"relation,in14" recstore:"inverse=out14"`
	Out15 []*Wide `jsonapi:"relation,out15" recstore:"inverse=in15"`
	In15  []*Wide `jsonapi:"relation,in15" recstore:"inverse=out15"`
	Out16 []*Wide `jsonapi:"relation,out16" recstore:"inverse=in16"`
	In16  []*Wide `jsonapi:"relation,in16" recstore:"inverse=out16"`
	Out17 []*Wide `jsonapi:"relation,out17" recstore:"inverse=in17"`
	In17  []*Wide `jsonapi:"relation,in17" recstore:"inverse=out17"`
	Out18 []*Wide `jsonapi:"relation,out18" recstore:"inverse=in18"`
	In18  []*Wide `jsonapi:"relation,in18" recstore:"inverse=out18"`
	Out19 []*Wide `jsonapi:"relation,out19" recstore:"inverse=in19"`
	In19  []*Wide `jsonapi:"relation,in19" recstore:"inverse=out19"`
	Out20 []*Wide `jsonapi:"relation,out20" recstore:"inverse=in20"`
	In20  []*Wide `jsonapi:"relation,in20" recstore:"inverse=out20"`
	Out21 []*Wide `jsonapi:"relation,out21" recstore:"inverse=in21"`
	In21  []*Wide `jsonapi:"relation,in21" recstore:"inverse=out21"`
	Out22 []*Wide `jsonapi:"relation,out22" recstore:"inverse=in22"`
	In22  []*Wide `jsonapi:"relation,in22" recstore:"inverse=out22"`
	Out23 []*Wide `jsonapi:"relation,out23" recstore:"inverse=in23"`
	In23  []*Wide `jsonapi:"relation,in23" recstore:"inverse=out23"`
	Out24 []*Wide `jsonapi:"relation,out24" recstore:"inverse=in24"`
	In24  []*Wide `jsonapi:"relation,in24" recstore:"inverse=out24"`
	Out25 []*Wide `jsonapi:"relation,out25" recstore:"inverse=in25"`
	In25  []*Wide `jsonapi:"relation,in25" recstore:"inverse=out25"`
	Out26 []*Wide `jsonapi:"relation,out26" recstore:"inverse=in26"`
	In26  []*Wide `jsonapi:"relation,in26" recstore:"inverse=out26"`
	Out27 []*Wide `jsonapi:"relation,out27" recstore:"inverse=in27"`
	In27  []*Wide `jsonapi:"relation,in27" recstore:"inverse=out27"`
	Out28 []*Wide `jsonapi:"relation,out28" recstore:"inverse=in28"`
	In28  []*Wide `jsonapi:"relation,in28" recstore:"inverse=out28"`
	Out29 []*Wide `jsonapi:"relation,out29" recstore:"inverse=in29"`
	In29  []*Wide `jsonapi:"relation,in29" recstore:"inverse=out29"`
	Out30 []*Wide `jsonapi:"relation,out30" recstore:"inverse=in30"`
	In30  []*Wide `jsonapi:"relation,in30" recstore:"inverse=out30"`
	Out31 []*Wide `jsonapi:"relation,out31" recstore:"inverse=in31"`
	In31  []*Wide `jsonapi:"relation,in31" recstore:"inverse=out31"`
}

// The documented bounds (README, "Limits and memory"): per byte of a
// document within the default limits, a push retains at most
// maxRetainedPerByte bytes and allocates at most maxAllocatedPerByte, and
// a Peek of a record allocates at most maxPeekPerByte per byte of the
// document that filled it.
const (
	maxRetainedPerByte  = 24
	maxAllocatedPerByte = 64
	maxPeekPerByte      = 24
)

// memDoc builds a document of about size bytes from a head, a repeated
// element and a tail.
func memDoc(size int, head, tail string, elem func(i int) string) string {
	var b strings.Builder
	b.Grow(size)
	b.WriteString(head)
	for i := 0; ; i++ {
		e := elem(i)
		if b.Len()+1+len(e)+len(tail) > size {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e)
	}
	b.WriteString(tail)
	return b.String()
}

// heap returns the live heap and the bytes allocated so far, after a
// collection.
func heap() (live, total uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.TotalAlloc
}

// TestMemoryBound pushes the worst documents we know of, per byte, and
// checks the bytes a push retains and allocates, and a Peek allocates,
// against the documented bounds. RECSTORE_MEM_MB sets the document size
// (default 2 MiB; the figures in the README were taken at 16).
func TestMemoryBound(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation; CI runs this test without -race")
	}
	size := 2 << 20
	if mb, err := strconv.Atoi(os.Getenv("RECSTORE_MEM_MB")); err == nil && mb > 0 {
		size = mb << 20
	}
	id := strconv.Itoa
	ident := func(typ string) func(int) string {
		return func(i int) string { return `{"type":"` + typ + `","id":"` + id(i) + `"}` }
	}
	kinds := func(attr string, elem func(int) string, open, close string) string {
		return memDoc(size, `{"data":{"type":"kinds","id":"1","attributes":{"`+attr+`":`+open, close+`}}}`, elem)
	}
	for _, tc := range []struct {
		name    string
		doc     string
		peek    func(s *recstore.Store) any // reads the big record back, if any
		payload bool                        // through PushPayload and a JSONAPISerializer
		perType string                      // the bound adds the model's struct size per resource of this type
	}{
		{"to-many ids into a model with 64 relationships", memDoc(size, `{"data":{"type":"wide","id":"w","relationships":{"out00":{"data":[`, `]}}}}`, ident("wide")),
			func(s *recstore.Store) any { v, _ := s.Peek(recstore.Key{Type: "wide", ID: "w"}); return v }, false, ""},
		{"to-many ids with inverse", memDoc(size, `{"data":{"type":"album","id":"1","relationships":{"tracks":{"data":[`, `]}}}}`, ident("track")), nil, false, ""},
		{"Key ids, no inverse", memDoc(size, `{"data":{"type":"kinds","id":"1","relationships":{"refs":{"data":[`, `]}}}}`, ident("label")), nil, false, ""},
		{"many small records", memDoc(size, `{"data":[`, `]}`, func(i int) string { return `{"type":"label","id":"` + id(i) + `"}` }), nil, false, ""},
		{"records with to-one inverse", memDoc(size, `{"data":[`, `]}`, func(i int) string {
			return `{"type":"track","id":"` + id(i) + `","relationships":{"album":{"data":{"type":"album","id":"` + id(i) + `"}}}}`
		}), nil, false, ""},
		{"empty objects in an any attribute", kinds("any", func(int) string { return "{}" }, "[", "]"), peekKinds, false, ""},
		{"empty arrays in an any attribute", kinds("any", func(int) string { return "[]" }, "[", "]"), peekKinds, false, ""},
		{"zeros in an any attribute", kinds("any", func(int) string { return "0" }, "[", "]"), peekKinds, false, ""},
		{"empty objects in a []*Point attribute", kinds("points", func(int) string { return "{}" }, "[", "]"), peekKinds, false, ""},
		{"empty strings in a []string attribute", kinds("tags", func(int) string { return `""` }, "[", "]"), peekKinds, false, ""},
		{"members of a map[string]any attribute", kinds("meta", func(i int) string { return `"` + id(i) + `":0` }, "{", "}"), peekKinds, false, ""},
		{"PushPayload: to-many ids into a model with 64 relationships", memDoc(size, `{"data":{"type":"wide","id":"w","relationships":{"out00":{"data":[`, `]}}}}`, ident("wide")), nil, true, ""},
		{"PushPayload: many small records", memDoc(size, `{"data":[`, `]}`, func(i int) string { return `{"type":"label","id":"` + id(i) + `"}` }), nil, true, ""},
		{"records of a model with 64 relationships, one set", memDoc(size, `{"data":[`, `]}`, func(i int) string {
			return `{"type":"wide","id":"` + id(i) + `","relationships":{"out00":{"data":[]}}}`
		}), nil, false, "wide"},
		{"math/big numbers of 1,000 digits", memDoc(size, `{"data":{"type":"ledger","id":"1","attributes":{"bigs":[`, `]}}}`, func(int) string { return "1" + strings.Repeat("9", 999) }),
			func(s *recstore.Store) any { v, _ := s.Peek(recstore.Key{Type: "ledger", ID: "1"}); return v }, false, ""},
		{"records with empty links and meta", memDoc(size, `{"data":[`, `]}`, func(i int) string {
			return `{"type":"label","id":"` + id(i) + `","links":{},"meta":{}}`
		}), nil, false, ""},
		{"relationships with only empty links or meta", memDoc(size, `{"data":[`, `]}`, func(i int) string {
			return `{"type":"album","id":"` + id(i) + `","relationships":{"label":{"meta":{}},"tracks":{"links":{}}}}`
		}), nil, false, ""},
		{"PushPayload: records with empty links and meta", memDoc(size, `{"data":[`, `]}`, func(i int) string {
			return `{"type":"label","id":"` + id(i) + `","links":{},"meta":{},"relationships":{}}`
		}), nil, true, ""},
		{"PushPayload: relationships with only empty links or meta", memDoc(size, `{"data":[`, `]}`, func(i int) string {
			return `{"type":"album","id":"` + id(i) + `","relationships":{"label":{"meta":{}},"tracks":{"links":{}}}}`
		}), nil, true, ""},
		{"skipped members", memDoc(size, `{"data":{"type":"album","id":"1","attributes":{`, `}}}`, func(i int) string { return `"` + id(i) + `":{}` }), nil, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := recstore.New(&recstore.Options{MaxResources: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
			_, _, _, _, _ = registerAll(t, s)
			recstore.MustRegister[Wide](s, nil)
			recstore.MustRegister[Ledger](s, nil)
			doc := []byte(tc.doc)
			live0, total0 := heap()
			var err error
			if tc.payload {
				_, err = s.PushPayload("", doc)
			} else {
				_, err = s.Push(doc)
			}
			require.NoError(t, err)
			live1, total1 := heap()
			retained := float64(int64(live1)-int64(live0)) / float64(len(doc))
			allocated := float64(total1-total0) / float64(len(doc))
			peek := 0.0
			if tc.peek != nil {
				_, t0 := heap()
				v := tc.peek(s)
				_, t1 := heap()
				runtime.KeepAlive(v)
				peek = float64(t1-t0) / float64(len(doc))
			}
			t.Logf("%-48s %5.1f MiB: retains %5.2f B/B, allocates %5.2f B/B, Peek %5.2f B/B", tc.name, float64(len(doc))/(1<<20), retained, allocated, peek)
			bound := float64(maxRetainedPerByte)
			if tc.perType != "" {
				// Every resource holds a whole struct of its model.
				n := strings.Count(tc.doc, `"type":"`+tc.perType+`"`)
				bound += float64(n) * float64(unsafe.Sizeof(Wide{})) / float64(len(doc))
			}
			assert.LessOrEqual(t, retained, bound, "retained bytes per document byte")
			assert.LessOrEqual(t, allocated, float64(maxAllocatedPerByte), "allocated bytes per document byte")
			assert.LessOrEqual(t, peek, float64(maxPeekPerByte), "bytes a Peek allocates per document byte")
			runtime.KeepAlive(s)
			runtime.KeepAlive(doc)
		})
	}
}

func peekKinds(s *recstore.Store) any { v, _ := s.Peek(recstore.Key{Type: "kinds", ID: "1"}); return v }

// registerAll registers the shared test models in s.
func registerAll(t testing.TB, s *recstore.Store) (*recstore.Model[Album], *recstore.Model[Label], *recstore.Model[Track], *recstore.Model[Kinds], error) {
	t.Helper()
	a := recstore.MustRegister[Album](s, nil)
	l := recstore.MustRegister[Label](s, nil)
	tr := recstore.MustRegister[Track](s, nil)
	k := recstore.MustRegister[Kinds](s, nil)
	return a, l, tr, k, nil
}

// A record known only by reference keeps exactly the relationships its
// inverses gave it, each once, known, whatever their place in its model
// (here the 64th of 64), and gains the rest when it loads.
func TestSparseRelationshipState(t *testing.T) {
	s := recstore.New(nil)
	wides := recstore.MustRegister[Wide](s, nil)
	_, err := s.Push(`{"data": [
		{"type": "wide", "id": "a", "relationships": {"in31": {"data": [{"type": "wide", "id": "x"}]}, "out00": {"data": [{"type": "wide", "id": "x"}]}}},
		{"type": "wide", "id": "b", "relationships": {"in31": {"data": [{"type": "wide", "id": "x"}]}}}
	]}`)
	require.NoError(t, err)
	require.NoError(t, recstore.CheckInverses(s))
	x := recstore.Key{Type: "wide", ID: "x"}
	for name, want := range map[string][]recstore.Key{
		"out31": {{Type: "wide", ID: "a"}, {Type: "wide", ID: "b"}},
		"in00":  {{Type: "wide", ID: "a"}},
		"out05": nil,
	} {
		known, keys, slots := recstore.RelState(s, x, name)
		assert.Equal(t, want != nil, known, name)
		assert.Equal(t, want, keys, name)
		assert.Equal(t, 2, slots, "a record known by reference holds only what inverses gave it")
	}
	_, err = s.Push(`{"data": {"type": "wide", "id": "x", "relationships": {"out05": {"data": []}}}}`)
	require.NoError(t, err)
	w, ok := wides.Peek("x")
	require.True(t, ok)
	assert.Len(t, w.Out31, 2)
	assert.Len(t, w.In00, 1)
	r, _ := s.Related(x, "out05")
	assert.True(t, r.Known)
	_, _, slots := recstore.RelState(s, x, "out05")
	assert.Equal(t, 3, slots, "a loaded record holds only the relationships set, not all 64")
	require.NoError(t, recstore.CheckInverses(s))
}
