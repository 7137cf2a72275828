package recstore_test

import (
	"math/big"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// Models with one JSON-valued attribute each, for the worst cases of
// memory per input byte: a document of empty objects or arrays.
type (
	eoAny struct {
		ID string `jsonapi:"primary,eo"`
		V  any    `jsonapi:"attr,v"`
	}
	eoSliceAny struct {
		ID string `jsonapi:"primary,eo"`
		V  []any  `jsonapi:"attr,v"`
	}
	eoSliceMap struct {
		ID string           `jsonapi:"primary,eo"`
		V  []map[string]any `jsonapi:"attr,v"`
	}
	eoMap struct {
		ID string         `jsonapi:"primary,eo"`
		V  map[string]any `jsonapi:"attr,v"`
	}
	eoSliceStruct struct {
		ID string     `jsonapi:"primary,eo"`
		V  []struct{} `jsonapi:"attr,v"`
	}
	eoSliceSlice struct {
		ID string  `jsonapi:"primary,eo"`
		V  [][]any `jsonapi:"attr,v"`
	}
	eoSlicePtrAny struct {
		ID string `jsonapi:"primary,eo"`
		V  []*any `jsonapi:"attr,v"`
	}
	eoSliceBig struct {
		ID string    `jsonapi:"primary,eo"`
		V  []big.Int `jsonapi:"attr,v"`
	}
	eoSlicePtrBig struct {
		ID string     `jsonapi:"primary,eo"`
		V  []*big.Int `jsonapi:"attr,v"`
	}
)

// emptyObjectsDoc returns a document of one "eo" whose attribute v is elem
// repeated (comma-separated, in an array) to fill MaxDocumentBytes; with
// keyed, v is an object whose members are elem under distinct keys.
func emptyObjectsDoc(elem string, keyed bool) []byte {
	head, tail := `{"data":{"type":"eo","id":"1","attributes":{"v":[`, `]}}}`
	item := func(int) string { return elem }
	if keyed {
		head, tail = `{"data":{"type":"eo","id":"1","attributes":{"v":{`, `}}}}`
		item = func(i int) string { return `"` + strconv.Itoa(i) + `":` + elem }
	}
	return []byte(memDoc(recstore.DefaultMaxDocumentBytes, head, tail, item))
}

// BenchmarkEmptyObjects measures, per byte of a 16 MiB document of empty
// JSON values, the heap the pushed record retains (retained/B), the bytes
// the push allocates (push-alloc/B) and the bytes one Peek allocates
// (peek-alloc/B, also B/op divided by the size).
// Each case holds about 400 MB, so it runs only with
// RECSTORE_BENCH_LARGE=1:
//
//	RECSTORE_BENCH_LARGE=1 go test -run '^$' -bench EmptyObjects -benchmem -benchtime 2x .
func BenchmarkEmptyObjects(b *testing.B) {
	if os.Getenv("RECSTORE_BENCH_LARGE") != "1" {
		b.Skip("set RECSTORE_BENCH_LARGE=1 to run the 16 MiB memory benchmarks")
	}
	cases := []struct {
		name  string
		elem  string
		keyed bool
		reg   func(*recstore.Store) func() bool
	}{
		{"any=[{}]", "{}", false, peeker[eoAny]},
		{"[]any=[{}]", "{}", false, peeker[eoSliceAny]},
		{"[]any=[[]]", "[]", false, peeker[eoSliceAny]},
		{"[]any=[1]", "1", false, peeker[eoSliceAny]},
		{"[]map=[{}]", "{}", false, peeker[eoSliceMap]},
		{"map={k:{}}", "{}", true, peeker[eoMap]},
		{"[]struct=[{}]", "{}", false, peeker[eoSliceStruct]},
		{"[][]any=[[]]", "[]", false, peeker[eoSliceSlice]},
		{"[]*any=[{}]", "{}", false, peeker[eoSlicePtrAny]},
		{"[]big.Int=[1]", "1", false, peeker[eoSliceBig]},
		{"[]*big.Int=[1]", "1", false, peeker[eoSlicePtrBig]},
		{"[]*big.Int=[2^64]", "18446744073709551616", false, peeker[eoSlicePtrBig]},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			doc := emptyObjectsDoc(c.elem, c.keyed)
			size := float64(len(doc))
			s := recstore.New(nil)
			peek := c.reg(s)
			before := heapInUse()
			var pm0, pm1 runtime.MemStats
			runtime.ReadMemStats(&pm0)
			_, err := s.Push(doc)
			require.NoError(b, err)
			runtime.ReadMemStats(&pm1)
			after := heapInUse()
			runtime.KeepAlive(doc) // counted in before and after alike
			runtime.KeepAlive(s)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			n := 0
			for b.Loop() {
				if !peek() {
					b.Fatal("miss")
				}
				n++
			}
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(int64(after)-int64(before))/size, "retained/B")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(n)/size, "peek-alloc/B")
			b.ReportMetric(float64(pm1.TotalAlloc-pm0.TotalAlloc)/size, "push-alloc/B")
		})
	}
}

func peeker[T any](s *recstore.Store) func() bool {
	m := recstore.MustRegister[T](s, nil)
	return func() bool {
		_, ok := m.Peek("1")
		return ok
	}
}

// peekDeepJSON and peekDeepBig hold attributes that every read deep-copies.
type (
	peekDeepJSON struct {
		ID   string         `jsonapi:"primary,album"`
		Tags []string       `jsonapi:"attr,tags"`
		Meta map[string]any `jsonapi:"attr,meta"`
		Any  []any          `jsonapi:"attr,any"`
	}
	peekDeepBig struct {
		ID   string   `jsonapi:"primary,album"`
		Big  big.Int  `jsonapi:"attr,big"`
		BigP *big.Int `jsonapi:"attr,bigp"`
	}
)

// BenchmarkPeekDeep reads records whose attributes are deep-copied on each
// read: small JSON values, and math/big integers. The baseline is Peek of
// a record of strings and an int, which copies nothing but the struct.
func BenchmarkPeekDeep(b *testing.B) {
	const attrs = `"tags":["a","b","c"],"meta":{"k":[1,"x"],"n":{"a":true}},"any":[1,"s",{"k":null}],` +
		`"big":123456789012345678901234567890,"bigp":-98765432109876543210987654321,` +
		`"title":"t","artist":"a","songCount":3`
	doc := `{"data":{"type":"album","id":"1","attributes":{` + attrs + `}}}`
	b.Run("baseline=attributes", func(b *testing.B) { benchPeek[SeedAlbum](b, doc) })
	b.Run("json", func(b *testing.B) { benchPeek[peekDeepJSON](b, doc) })
	b.Run("big", func(b *testing.B) { benchPeek[peekDeepBig](b, doc) })
}

func benchPeek[T any](b *testing.B, doc string) {
	s := recstore.New(nil)
	m := recstore.MustRegister[T](s, nil)
	_, err := s.Push(doc)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := m.Peek("1"); !ok {
			b.Fatal("miss")
		}
	}
}
