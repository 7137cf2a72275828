package recstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/recstore/recstore"
)

// BenchmarkGroupForFindManyHook groups n ids with URLForFindMany set
// (CommaIDsURL) against the default filter[id] arithmetic, the baseline,
// in the same run, under a limit that fits them all (the worst case for
// growing a group an id at a time). The hook's figure is also reported
// as a ratio to the baseline's, x-default.
//
//	go test -run '^$' -bench GroupForFindManyHook -benchmem
func BenchmarkGroupForFindManyHook(b *testing.B) {
	for _, n := range []int{1000, 16000} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint(100000 + i)
		}
		var base time.Duration // the baseline's time per op
		b.Run(fmt.Sprintf("ids=%d/default", n), func(b *testing.B) {
			a := &recstore.HTTPAdapter{Host: "http://api.example.com", MaxURLLength: 1 << 30}
			b.ReportAllocs()
			for b.Loop() {
				a.GroupForFindMany("album", ids)
			}
			base = b.Elapsed() / time.Duration(b.N)
		})
		b.Run(fmt.Sprintf("ids=%d/hook", n), func(b *testing.B) {
			a := &recstore.HTTPAdapter{Host: "http://api.example.com", MaxURLLength: 1 << 30, URLForFindMany: recstore.CommaIDsURL}
			b.ReportAllocs()
			for b.Loop() {
				a.GroupForFindMany("album", ids)
			}
			if base > 0 {
				b.ReportMetric(float64(b.Elapsed()/time.Duration(b.N))/float64(base), "x-default")
			}
		})
	}
}
