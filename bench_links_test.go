package recstore_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/recstore/recstore"
)

// BenchmarkPushLinks measures what links and meta cost a push: 10,000
// albums as a JSON:API server writes them, each with a self link, meta,
// and a label relationship with self and related links, against the same
// document without them, through Push and PushPayload.
func BenchmarkPushLinks(b *testing.B) {
	const n = 10_000
	doc := func(links bool) []byte {
		var d bytes.Buffer
		d.WriteString(`{"data":[`)
		for i := range n {
			if i > 0 {
				d.WriteByte(',')
			}
			if links {
				fmt.Fprintf(&d, `{"type":"album","id":"%d","attributes":{"title":"Album number %d","artist":"Artist %d","songCount":%d},`+
					`"links":{"self":"https://api.example.com/albums/%d"},"meta":{"rev":%d},`+
					`"relationships":{"label":{"data":{"type":"label","id":"%d"},"links":{"self":"https://api.example.com/albums/%d/relationships/label","related":"https://api.example.com/albums/%d/label"}}}}`,
					i, i, i%997, i%23, i, i%7, i%100, i, i)
			} else {
				fmt.Fprintf(&d, `{"type":"album","id":"%d","attributes":{"title":"Album number %d","artist":"Artist %d","songCount":%d},`+
					`"relationships":{"label":{"data":{"type":"label","id":"%d"}}}}`,
					i, i, i%997, i%23, i%100)
			}
		}
		d.WriteString(`]}`)
		return d.Bytes()
	}
	for _, links := range []bool{false, true} {
		d := doc(links)
		for _, via := range []string{"Push", "PushPayload"} {
			b.Run(fmt.Sprintf("%s/links=%v", via, links), func(b *testing.B) {
				b.SetBytes(int64(len(d)))
				b.ReportAllocs()
				for b.Loop() {
					s, _, _, _, _ := newStore(b, &recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
					var err error
					if via == "Push" {
						_, err = s.Push(d)
					} else {
						_, err = s.PushPayload("", d)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPushPayloadHashLinks measures what a REST hash's links member
// costs: 10,000 albums with a label, each with links to its tracks and
// its label, against the same payload without them.
func BenchmarkPushPayloadHashLinks(b *testing.B) {
	const n = 10_000
	payload := func(links bool) []byte {
		var d bytes.Buffer
		d.WriteString(`{"albums":[`)
		for i := range n {
			if i > 0 {
				d.WriteByte(',')
			}
			fmt.Fprintf(&d, `{"id":%d,"title":"Album number %d","artist":"Artist %d","songCount":%d,"label":%d`, i, i, i%997, i%23, i%100)
			if links {
				fmt.Fprintf(&d, `,"links":{"tracks":"https://api.example.com/albums/%d/tracks","label":"https://api.example.com/albums/%d/label"}`, i, i)
			}
			d.WriteByte('}')
		}
		d.WriteString(`]}`)
		return d.Bytes()
	}
	for _, links := range []bool{false, true} {
		d := payload(links)
		b.Run(fmt.Sprintf("links=%v", links), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			b.ReportAllocs()
			for b.Loop() {
				s, _, _, _, _ := newStore(b, &recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24, Serializer: &recstore.RESTSerializer{}})
				if _, err := s.PushPayload("album", d); err != nil {
					b.Fatal(err)
				}
			}
			perRecord(b, n)
		})
	}
}
