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
				s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 8 << 20})
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
