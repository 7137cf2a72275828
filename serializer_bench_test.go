package recstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// BenchmarkCoercion pushes one record whose number, boolean or date
// attribute is a string of 1 MiB and of 4 MiB, through PushPayload and a
// JSONSerializer. The baseline is the same payload with the string in a
// string attribute, which is only copied: coercion must stay within a
// small factor of it at every size, so that the 4 MiB / 1 MiB ratio of
// each case is about 4 (linear), not 16 (quadratic).
//
//	go test -run '^$' -bench Coercion -benchmem
func BenchmarkCoercion(b *testing.B) {
	cases := []struct{ name, attr, prefix, digit string }{
		{"baseline", "s", "0o", "7"},
		{"octal", "f", "0o", "7"},
		{"hex", "f", "0x", "f"},
		{"binary", "f", "0b", "1"},
		{"decimal", "f", "", "9"},
		{"integer", "n", "", "9"},
		{"bool", "b", "", "t"},
		{"date", "t", "2020-01-02T", "0"},
	}
	for _, size := range []int{1 << 20, 4 << 20} {
		for _, c := range cases {
			payload := fmt.Sprintf(`{"id": 1, %q: "%s%s"}`, c.attr, c.prefix, strings.Repeat(c.digit, size-len(c.prefix)))
			b.Run(fmt.Sprintf("%s/MiB=%d", c.name, size>>20), func(b *testing.B) {
				s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 8 << 20, OnReport: func(recstore.Report) {}})
				m := recstore.MustRegister[Coerced](s, &recstore.ModelOptions{Serializer: &recstore.JSONSerializer{
					Transforms: map[string]recstore.Transform{"fahrenheit": fahrenheit{}}}})
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				for b.Loop() {
					_, err := m.PushPayload(payload)
					if c.name == "date" {
						require.Error(b, err)
						continue
					}
					require.NoError(b, err)
				}
			})
		}
	}
}

// Node embeds the next node: a chain as deep as MaxDepth allows.
type Node struct {
	ID   string `jsonapi:"primary,node"`
	Name string `jsonapi:"attr,name"`
	Next *Node  `jsonapi:"relation,next"`
}

// BenchmarkEmbeddedDepth pushes 4 MiB of payload whose bulk sits in the
// deepest of a chain of embedded records, at depth 1, 8 and 60, through
// PushPayload and a RESTSerializer. Each level of embedding is read from
// the bytes of the level above it, so the cost grows with the depth;
// MaxDepth bounds it.
//
//	go test -run '^$' -bench EmbeddedDepth -benchmem
func BenchmarkEmbeddedDepth(b *testing.B) {
	for _, depth := range []int{1, 8, 60} {
		var p strings.Builder
		p.WriteString(`{"node": `)
		for i := range depth {
			fmt.Fprintf(&p, `{"id": %d, "next": `, i)
		}
		fmt.Fprintf(&p, `{"id": "last", "name": %q}`, strings.Repeat("n", 4<<20))
		p.WriteString(strings.Repeat("}", depth) + "}")
		payload := p.String()
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			s := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{}, MaxDocumentBytes: 8 << 20})
			recstore.MustRegister[Node](s, nil)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				_, err := s.PushPayload("node", payload)
				require.NoError(b, err)
			}
		})
	}
}
