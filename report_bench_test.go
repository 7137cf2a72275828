package recstore_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/recstore/recstore"
)

// BenchmarkPushPayloadReports pushes 10,000 albums through the REST and
// JSON:API serializers: "clean" payloads have nothing to report (the cost
// reports must not raise), "unknown" ones give each record a member the
// model lacks, and "lossy" ones a songCount that coerces with a loss. The
// Logger discards, at level Info, so unknown members are not looked for
// unless a benchmark sets OnReport (see BenchmarkOnReport).
//
//	go test -run '^$' -bench PushPayloadReports -benchmem
func BenchmarkPushPayloadReports(b *testing.B) {
	benchPushPayloadReports(b, nil)
}

func benchPushPayloadReports(b *testing.B, set func(*recstore.Options)) {
	const n = 10_000
	discard := slog.New(slog.NewTextHandler(discardWriter{}, nil))
	for _, format := range []string{"REST", "JSONAPI"} {
		for _, c := range []struct{ name, extra, count string }{
			{"clean", "", "12"},
			{"unknown", `,"rating":5`, "12"},
			{"lossy", "", `"twelve"`},
		} {
			var p bytes.Buffer
			var ser recstore.Serializer
			if format == "REST" {
				ser = &recstore.RESTSerializer{}
				p.WriteString(`{"albums":[`)
				for i := range n {
					if i > 0 {
						p.WriteByte(',')
					}
					fmt.Fprintf(&p, `{"id":%d,"title":"Album number %d","artist":"Artist %d","songCount":%s%s}`, i, i, i%997, c.count, c.extra)
				}
				p.WriteString(`]}`)
			} else {
				ser = &recstore.JSONAPISerializer{}
				p.WriteString(`{"data":[`)
				for i := range n {
					if i > 0 {
						p.WriteByte(',')
					}
					fmt.Fprintf(&p, `{"type":"albums","id":"%d","attributes":{"title":"Album number %d","artist":"Artist %d","song-count":%s%s}}`, i, i, i%997, c.count, c.extra)
				}
				p.WriteString(`]}`)
			}
			payload := p.Bytes()
			b.Run(format+"/"+c.name, func(b *testing.B) {
				opts := &recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24, Serializer: ser, Logger: discard}
				if set != nil {
					set(opts)
				}
				s := recstore.New(opts)
				recstore.MustRegister[SeedAlbum](s, nil)
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.PushPayload("album", payload); err != nil {
						b.Fatal(err)
					}
				}
				perRecord(b, n)
			})
		}
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkPushOne pushes one album at a time, by Push and by
// PushPayload: what reports add to every push, payload or not, shows
// most here.
func BenchmarkPushOne(b *testing.B) {
	discard := slog.New(slog.NewTextHandler(discardWriter{}, nil))
	s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}, Logger: discard})
	recstore.MustRegister[SeedAlbum](s, nil)
	doc := []byte(`{"data": {"type": "album", "id": "1", "attributes": {"title": "T", "artist": "A", "songCount": 3}}}`)
	payload := []byte(`{"album": {"id": 1, "title": "T", "artist": "A", "songCount": 3}}`)
	b.Run("Push", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Push(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PushPayload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.PushPayload("album", payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}
