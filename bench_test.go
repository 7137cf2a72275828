package recstore_test

// Benchmarks behind the README's performance table. Every figure that
// matters is a ratio to a baseline measured in the same run: encoding/json
// decoding the same bytes into plain structs and inserting them into a
// map, which is what a program without a store would do.
//
//	go test -run '^$' -bench . -benchmem
//	RECSTORE_BENCH_LARGE=1 go test -run '^$' -bench 'Memory|Growth' -benchmem -benchtime 3x
//
// The large benchmarks (1,000,000 records) are skipped unless
// RECSTORE_BENCH_LARGE=1, so that a plain -bench run stays short.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// BenchAlbum is the seed's album with a to-one label, the shape the issue's
// push targets name.
type BenchAlbum struct {
	ID        string      `jsonapi:"primary,album"`
	Title     string      `jsonapi:"attr,title"`
	Artist    string      `jsonapi:"attr,artist"`
	SongCount int         `jsonapi:"attr,songCount"`
	Label     *BenchLabel `jsonapi:"relation,label"`
}

type BenchLabel struct {
	ID   string `jsonapi:"primary,label"`
	Name string `jsonapi:"attr,name"`
}

// KeyAlbum is BenchAlbum with the cheap typed reference instead of a
// filled pointer: reading it copies the struct and nothing else.
type KeyAlbum struct {
	ID        string       `jsonapi:"primary,album"`
	Title     string       `jsonapi:"attr,title"`
	Artist    string       `jsonapi:"attr,artist"`
	SongCount int          `jsonapi:"attr,songCount"`
	Label     recstore.Key `jsonapi:"relation,label"`
}

// BenchTrack belongs to one album, whose tracks list is the inverse.
type BenchTrack struct {
	ID    string       `jsonapi:"primary,track"`
	Title string       `jsonapi:"attr,title"`
	Album recstore.Key `jsonapi:"relation,album" recstore:"inverse=tracks"`
}

type BenchTrackAlbum struct {
	ID     string         `jsonapi:"primary,album"`
	Title  string         `jsonapi:"attr,title"`
	Tracks []recstore.Key `jsonapi:"relation,tracks" recstore:"inverse=album"`
}

// plainAlbum and plainDoc are what the baseline decodes into: the same
// document as plain Go structs.
type plainAlbum struct {
	Title     string
	Artist    string
	SongCount int
	LabelID   string
}

type plainIdent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type plainDoc struct {
	Data []struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Title     string `json:"title"`
			Artist    string `json:"artist"`
			SongCount int    `json:"songCount"`
			Name      string `json:"name"`
		} `json:"attributes"`
		Relationships struct {
			Label struct {
				Data *plainIdent `json:"data"`
			} `json:"label"`
		} `json:"relationships"`
	} `json:"data"`
	Included []struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Name string `json:"name"`
		} `json:"attributes"`
	} `json:"included"`
}

// baselinePush decodes doc with encoding/json and inserts the albums and
// labels into maps.
func baselinePush(doc []byte, albums map[string]*plainAlbum, labels map[string]string) error {
	var d plainDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	for i := range d.Data {
		r := &d.Data[i]
		a := &plainAlbum{Title: r.Attributes.Title, Artist: r.Attributes.Artist, SongCount: r.Attributes.SongCount}
		if l := r.Relationships.Label.Data; l != nil {
			a.LabelID = l.ID
		}
		albums[r.ID] = a
	}
	for i := range d.Included {
		labels[d.Included[i].ID] = d.Included[i].Attributes.Name
	}
	return nil
}

// albumDoc writes a JSON:API document of n albums with ids from first on,
// each with a label among 100 included ones. titlesOnly writes only the
// title attribute and no relationships: a partial update.
func albumDoc(first, n int, titlesOnly bool) []byte {
	var b bytes.Buffer
	b.Grow(n * 200)
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := first + i
		if titlesOnly {
			fmt.Fprintf(&b, `{"type":"album","id":"%d","attributes":{"title":"Album number %d (remastered)"}}`, id, id)
			continue
		}
		fmt.Fprintf(&b, `{"type":"album","id":"%d","attributes":{"title":"Album number %d","artist":"Artist %d","songCount":%d},`+
			`"relationships":{"label":{"data":{"type":"label","id":"%d"}}}}`, id, id, id%997, id%23, id%100)
	}
	b.WriteString(`]`)
	if !titlesOnly {
		b.WriteString(`,"included":[`)
		for i := range 100 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"label","id":"%d","attributes":{"name":"Label %d"}}`, i, i)
		}
		b.WriteString(`]`)
	}
	b.WriteString(`}`)
	return b.Bytes()
}

// trackDoc writes n tracks, each in one of 100 albums, with the albums
// included.
func trackDoc(n int, withAlbum bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if withAlbum {
			fmt.Fprintf(&b, `{"type":"track","id":"%d","attributes":{"title":"Track %d"},"relationships":{"album":{"data":{"type":"album","id":"%d"}}}}`, i, i, i%100)
		} else {
			fmt.Fprintf(&b, `{"type":"track","id":"%d","attributes":{"title":"Track %d"}}`, i, i)
		}
	}
	b.WriteString(`],"included":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"album","id":"%d","attributes":{"title":"Album %d"}}`, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func benchStore(testing.TB) *recstore.Store {
	s := recstore.New(&recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
	recstore.MustRegister[BenchAlbum](s, nil)
	recstore.MustRegister[BenchLabel](s, nil)
	return s
}

func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
}

// BenchmarkPush compares Push of 10,000 albums (plus 100 labels) with the
// baseline. "fresh" pushes into an empty store, "again" re-pushes the same
// document into a store that holds it, "titles" pushes a partial update of
// only titles into that store.
func BenchmarkPush(b *testing.B) {
	const n = 10_000
	full, titles := albumDoc(0, n, false), albumDoc(0, n, true)

	b.Run("baseline=encoding-json+map", func(b *testing.B) {
		b.SetBytes(int64(len(full)))
		for b.Loop() {
			if err := baselinePush(full, make(map[string]*plainAlbum), make(map[string]string)); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b, n)
	})
	b.Run("fresh", func(b *testing.B) {
		b.SetBytes(int64(len(full)))
		for b.Loop() {
			if _, err := benchStore(b).Push(full); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b, n)
	})
	b.Run("again", func(b *testing.B) {
		s := benchStore(b)
		_, err := s.Push(full)
		require.NoError(b, err)
		b.SetBytes(int64(len(full)))
		for b.Loop() {
			if _, err := s.Push(full); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b, n)
	})
	b.Run("titles", func(b *testing.B) {
		s := benchStore(b)
		_, err := s.Push(full)
		require.NoError(b, err)
		b.SetBytes(int64(len(titles)))
		for b.Loop() {
			if _, err := s.Push(titles); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b, n)
	})
}

// BenchmarkPushRelationships pushes 10,000 tracks, each linked to one of
// 100 albums whose tracks list is kept as the inverse, against the same
// tracks without the link.
func BenchmarkPushRelationships(b *testing.B) {
	const n = 10_000
	for _, c := range []struct {
		name string
		doc  []byte
	}{
		{"plain", trackDoc(n, false)},
		{"inverse", trackDoc(n, true)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				s := recstore.New(&recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
				recstore.MustRegister[BenchTrack](s, nil)
				recstore.MustRegister[BenchTrackAlbum](s, nil)
				if _, err := s.Push(c.doc); err != nil {
					b.Fatal(err)
				}
			}
			perRecord(b, n)
		})
	}
}

// BenchmarkPushMovesTracks pushes 1,000 tracks that move between 1,000
// loaded albums: every album is touched by inverse updates only, which
// give it a version of its own with a copy of its value (headerOwn).
func BenchmarkPushMovesTracks(b *testing.B) {
	const n = 1000
	doc := func(shift int) []byte {
		var buf bytes.Buffer
		buf.WriteString(`{"data":[`)
		for i := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"type":"track","id":"%d","relationships":{"album":{"data":{"type":"album","id":"%d"}}}}`, i, (i+shift)%n)
		}
		buf.WriteString(`]}`)
		return buf.Bytes()
	}
	var albums bytes.Buffer
	albums.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			albums.WriteByte(',')
		}
		fmt.Fprintf(&albums, `{"type":"album","id":"%d","attributes":{"title":"Album %d"}}`, i, i)
	}
	albums.WriteString(`]}`)
	s := recstore.New(&recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
	recstore.MustRegister[BenchTrack](s, nil)
	recstore.MustRegister[BenchTrackAlbum](s, nil)
	if _, err := s.Push(albums.Bytes()); err != nil {
		b.Fatal(err)
	}
	docs := [2][]byte{doc(0), doc(1)}
	if _, err := s.Push(docs[0]); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Push(docs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeek reads one album: attributes only, with its label as a Key,
// and with its label filled as a *BenchLabel. The baseline is a lookup in a
// map guarded by a sync.RWMutex, the least a goroutine-safe cache must do.
func BenchmarkPeek(b *testing.B) {
	doc := albumDoc(0, 1000, false)

	b.Run("baseline=rwmutex-map", func(b *testing.B) {
		albums := map[string]*plainAlbum{}
		require.NoError(b, baselinePush(doc, albums, map[string]string{}))
		var mu sync.RWMutex
		var sink plainAlbum
		for b.Loop() {
			mu.RLock()
			sink = *albums["500"]
			mu.RUnlock()
		}
		_ = sink
	})
	b.Run("attributes", func(b *testing.B) {
		albums := peekModel[SeedAlbum](b, doc)
		for b.Loop() {
			if _, ok := albums.Peek("500"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("with-label-key", func(b *testing.B) {
		albums := peekModel[KeyAlbum](b, doc)
		for b.Loop() {
			if _, ok := albums.Peek("500"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("attributes-parallel", func(b *testing.B) {
		albums := peekModel[SeedAlbum](b, doc)
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = strconv.Itoa(i)
		}
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok := albums.Peek(ids[i%len(ids)]); !ok {
					panic("miss")
				}
				i++
			}
		})
	})
	b.Run("with-label", func(b *testing.B) {
		albums := peekModel[BenchAlbum](b, doc)
		for b.Loop() {
			if a, ok := albums.Peek("500"); !ok || a.Label == nil {
				b.Fatal("miss")
			}
		}
	})
}

// peekModel returns the model T of a store holding doc's albums and labels.
func peekModel[T any](b *testing.B, doc []byte) *recstore.Model[T] {
	s := recstore.New(nil)
	m := recstore.MustRegister[T](s, nil)
	recstore.MustRegister[BenchLabel](s, nil)
	_, err := s.Push(doc)
	require.NoError(b, err)
	return m
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func large(b *testing.B) {
	if os.Getenv("RECSTORE_BENCH_LARGE") != "1" {
		b.Skip("set RECSTORE_BENCH_LARGE=1 to run the 1,000,000-record benchmarks")
	}
}

// BenchmarkMemory reports the bytes each stored album holds on the heap,
// in the store and in the baseline map, after pushing n albums in
// documents of 10,000.
func BenchmarkMemory(b *testing.B) {
	const chunk = 10_000
	docs := map[int][]byte{}
	for _, n := range []int{100_000, 1_000_000} {
		for _, impl := range []string{"baseline", "store"} {
			b.Run(fmt.Sprintf("%s/%d", impl, n), func(b *testing.B) {
				if n > 100_000 {
					large(b)
				}
				for first := 0; first < n; first += chunk {
					chunkDoc(docs, first, chunk) // made before measuring
				}
				var perRec float64
				for b.Loop() {
					before := heapInUse()
					var keep any
					if impl == "baseline" {
						albums, labels := make(map[string]*plainAlbum), make(map[string]string)
						for first := 0; first < n; first += chunk {
							require.NoError(b, baselinePush(chunkDoc(docs, first, chunk), albums, labels))
						}
						keep = albums
					} else {
						s := benchStore(b)
						for first := 0; first < n; first += chunk {
							_, err := s.Push(chunkDoc(docs, first, chunk))
							require.NoError(b, err)
						}
						keep = s
					}
					perRec = float64(heapInUse()-before) / float64(n)
					runtime.KeepAlive(keep)
				}
				b.ReportMetric(perRec, "B/record")
			})
		}
	}
}

// chunkDoc caches the documents a benchmark pushes, so their bytes are
// counted in neither the store nor the baseline.
func chunkDoc(docs map[int][]byte, first, n int) []byte {
	if d, ok := docs[first]; ok {
		return d
	}
	d := albumDoc(first, n, false)
	docs[first] = d
	return d
}

// BenchmarkGrowth pushes 10,000 new albums into a store that already holds
// n, to show that the per-record cost does not grow with the store.
func BenchmarkGrowth(b *testing.B) {
	const chunk = 10_000
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			if n > 10_000 {
				large(b)
			}
			s := benchStore(b)
			for first := 0; first < n; first += chunk {
				_, err := s.Push(albumDoc(first, chunk, false))
				require.NoError(b, err)
			}
			next := n
			for b.Loop() {
				// Each timed push adds new records; making its document
				// is not timed.
				b.StopTimer()
				d := albumDoc(next, chunk, false)
				next += chunk
				b.StartTimer()
				if _, err := s.Push(d); err != nil {
					b.Fatal(err)
				}
			}
			perRecord(b, chunk)
		})
	}
}

// SeedAlbum is the seed's album without relationships, for PushPayload.
type SeedAlbum struct {
	ID        string `jsonapi:"primary,album"`
	Title     string `jsonapi:"attr,title"`
	Artist    string `jsonapi:"attr,artist"`
	SongCount int    `jsonapi:"attr,songCount"`
}

// BenchmarkPushPayload compares PushPayload of the seed's REST shape,
// {"albums": [{"id": 1, ..., "song_count": 10}]}, through a RESTSerializer
// whose NormalizeHash renames song_count, with Push of the same 10,000
// albums as a normalized JSON:API document.
func BenchmarkPushPayload(b *testing.B) {
	const n = 10_000
	var rest, jsonapi bytes.Buffer
	rest.WriteString(`{"albums":[`)
	jsonapi.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			rest.WriteByte(',')
			jsonapi.WriteByte(',')
		}
		fmt.Fprintf(&rest, `{"id":%d,"title":"Album number %d","artist":"Artist %d","song_count":%d}`, i, i, i%997, i%23)
		fmt.Fprintf(&jsonapi, `{"type":"album","id":"%d","attributes":{"title":"Album number %d","artist":"Artist %d","songCount":%d}}`, i, i, i%997, i%23)
	}
	rest.WriteString(`]}`)
	jsonapi.WriteString(`]}`)
	ser := &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
		NormalizeHash: func(_ string, h *recstore.Hash) error {
			h.Rename("song_count", "songCount")
			return nil
		},
	}}
	store := func() *recstore.Store {
		s := recstore.New(&recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
		recstore.MustRegister[SeedAlbum](s, &recstore.ModelOptions{Serializer: ser})
		return s
	}

	b.Run("baseline=Push-jsonapi", func(b *testing.B) {
		b.SetBytes(int64(jsonapi.Len()))
		for b.Loop() {
			if _, err := store().Push(jsonapi.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b, n)
	})
	b.Run("PushPayload-REST", func(b *testing.B) {
		b.SetBytes(int64(rest.Len()))
		for b.Loop() {
			if _, err := store().PushPayload("album", rest.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b, n)
	})
}

// neverReload is an Adapter whose policy keeps cached records as they are.
type neverReload struct {
	recstore.AdapterFunc
	recstore.DefaultReloadPolicy
}

func (neverReload) ShouldBackgroundReloadRecord(*recstore.Snapshot) bool { return false }

// BenchmarkFind compares Find of a cached album with Peek of it: through a
// ReloadPolicy that keeps it, and with FindOptions that skip the policy.
func BenchmarkFind(b *testing.B) {
	ad := neverReload{AdapterFunc: func(context.Context, *recstore.Request) ([]byte, error) {
		return nil, errors.New("not called on a hit")
	}}
	s := recstore.New(&recstore.Options{Adapter: ad})
	defer s.Close()
	albums := recstore.MustRegister[SeedAlbum](s, nil)
	_, err := s.Push(albumDoc(0, 1000, true))
	require.NoError(b, err)
	ctx := context.Background()
	never := &recstore.FindOptions{Reload: recstore.ReloadNever, BackgroundReload: recstore.ReloadNever}

	b.Run("baseline=Peek", func(b *testing.B) {
		for b.Loop() {
			if _, ok := albums.Peek("500"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("hit-policy", func(b *testing.B) {
		for b.Loop() {
			if _, err := albums.Find(ctx, "500", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit-options", func(b *testing.B) {
		for b.Loop() {
			if _, err := albums.Find(ctx, "500", never); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCoalescedFinds finds 1,000 distinct uncached albums at once over
// a JSON:API test server that adds 1ms to every request, with coalescing
// off (one request per album) and on (FindMany calls of up to 100).
func BenchmarkCoalescedFinds(b *testing.B) {
	const n = 1000
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		time.Sleep(time.Millisecond)
		w.Header().Set("Content-Type", "application/vnd.api+json")
		ids := strings.Split(r.URL.Query().Get("filter[id]"), ",")
		if id, ok := strings.CutPrefix(r.URL.Path, "/albums/"); ok {
			fmt.Fprintf(w, `{"data": {"type": "albums", "id": %q, "attributes": {"title": "t"}}}`, id)
			return
		}
		var buf bytes.Buffer
		buf.WriteString(`{"data": [`)
		for i, id := range ids {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"type": "albums", "id": %q, "attributes": {"title": "t"}}`, id)
		}
		buf.WriteString(`]}`)
		w.Write(buf.Bytes())
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	for _, c := range []struct {
		name     string
		coalesce *recstore.CoalesceOptions
	}{
		{"coalescing=off", nil},
		{"coalescing=on", &recstore.CoalesceOptions{MaxBatch: 100, Window: 5 * time.Millisecond}},
	} {
		b.Run(c.name, func(b *testing.B) {
			requests.Store(0)
			never := &recstore.FindOptions{BackgroundReload: recstore.ReloadNever}
			for b.Loop() {
				s := recstore.New(&recstore.Options{Adapter: &recstore.HTTPAdapter{Host: srv.URL, Client: client}, Coalesce: c.coalesce})
				albums := recstore.MustRegister[SeedAlbum](s, nil)
				var wg sync.WaitGroup
				for _, id := range ids {
					wg.Go(func() {
						if _, err := albums.Find(context.Background(), id, never); err != nil {
							panic(err)
						}
					})
				}
				wg.Wait()
				s.Close()
			}
			b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkSharedFind has 1,000 goroutines find one uncached album at once
// and reports the adapter calls per round: one, whatever the timing.
func BenchmarkSharedFind(b *testing.B) {
	var calls atomic.Int64
	ad := recstore.AdapterFunc(func(ctx context.Context, req *recstore.Request) ([]byte, error) {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return []byte(`{"data": {"type": "album", "id": "1", "attributes": {"title": "t"}}}`), nil
	})
	never := &recstore.FindOptions{BackgroundReload: recstore.ReloadNever}
	for b.Loop() {
		s := recstore.New(&recstore.Options{Adapter: ad})
		albums := recstore.MustRegister[SeedAlbum](s, nil)
		var start, wg sync.WaitGroup
		start.Add(1)
		for range 1000 {
			wg.Go(func() {
				start.Wait()
				if _, err := albums.Find(context.Background(), "1", never); err != nil {
					panic(err)
				}
			})
		}
		start.Done()
		wg.Wait()
		s.Close()
	}
	b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/op")
}
