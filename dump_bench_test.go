package recstore_test

// Restore against Push of the same records, in the same run:
//
//	go test -run '^$' -bench '^Benchmark(Restore|PushSame|Dump)$' -benchmem -count 5
//	RECSTORE_BENCH_LARGE=1 go test -run '^$' -bench '^Benchmark(Restore|PushSame)$' -benchmem -benchtime 3x
//
// Each iteration fills a new Store: Restore from a snapshot, Push from the
// JSON:API document the snapshot was made from. The requirement is that
// Restore is at least as fast as Push: compare their records/s. The large
// run (RECSTORE_BENCH_LARGE=1) fills a Store with 1,000,000 records.

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// dumpBenchCase is one set of records the benchmarks fill a Store with.
type dumpBenchCase struct {
	name    string
	doc     []byte
	records int
	store   func() *recstore.Store
}

func dumpBenchCases() []dumpBenchCase {
	n := 100_000
	if os.Getenv("RECSTORE_BENCH_LARGE") != "" {
		n = 1_000_000
	}
	return []dumpBenchCase{
		// Albums with four attributes and a to-one label, as BenchmarkPush.
		{"albums", albumDoc(0, n, false), n + 100, func() *recstore.Store { return benchStore(nil) }},
		// Tracks linked to 100 albums whose tracks lists are the inverse.
		{"tracks-inverse", trackDoc(n, true), n + 100, func() *recstore.Store {
			s := recstore.New(&recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
			recstore.MustRegister[BenchTrack](s, nil)
			recstore.MustRegister[BenchTrackAlbum](s, nil)
			return s
		}},
	}
}

func reportRecords(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op") // records/s is the figure; ns/op depends on n
}

// BenchmarkPushSame pushes the records into a new Store: the baseline of
// BenchmarkRestore.
func BenchmarkPushSame(b *testing.B) {
	for _, c := range dumpBenchCases() {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			for b.Loop() {
				if _, err := c.store().Push(c.doc); err != nil {
					b.Fatal(err)
				}
			}
			reportRecords(b, c.records)
		})
	}
}

// BenchmarkRestore restores a snapshot of the records BenchmarkPushSame
// pushes into a new Store.
func BenchmarkRestore(b *testing.B) {
	for _, c := range dumpBenchCases() {
		b.Run(c.name, func(b *testing.B) {
			src := c.store()
			_, err := src.Push(c.doc)
			require.NoError(b, err)
			var snap bytes.Buffer
			require.NoError(b, src.Dump(context.Background(), &snap))
			b.SetBytes(int64(snap.Len()))
			for b.Loop() {
				if err := c.store().Restore(context.Background(), bytes.NewReader(snap.Bytes())); err != nil {
					b.Fatal(err)
				}
			}
			reportRecords(b, c.records)
		})
	}
}

// BenchmarkDump writes a snapshot of the records.
func BenchmarkDump(b *testing.B) {
	for _, c := range dumpBenchCases() {
		b.Run(c.name, func(b *testing.B) {
			s := c.store()
			_, err := s.Push(c.doc)
			require.NoError(b, err)
			var snap bytes.Buffer
			for b.Loop() {
				snap.Reset()
				if err := s.Dump(context.Background(), &snap); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(snap.Len()))
			reportRecords(b, c.records)
		})
	}
}
