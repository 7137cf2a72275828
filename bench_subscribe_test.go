package recstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/recstore/recstore"
)

// BenchmarkPushSubscribers pushes 10,000 albums into an empty store with
// 0, 1 and 100 subscribers to the type, each counting what it gets. The
// push's cost is the benchmark's; delivery runs on the subscribers'
// goroutines (and is waited for by Close, outside the timing).
func BenchmarkPushSubscribers(b *testing.B) {
	const n = 10_000
	full := albumDoc(0, n, false)
	for _, subs := range []int{0, 1, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			b.SetBytes(int64(len(full)))
			var got atomic.Int64
			for b.Loop() {
				b.StopTimer()
				s := benchStore(b)
				for range subs {
					s.Subscribe(&recstore.SubscribeOptions{Type: "album", Buffer: 2 * n}, func(evs []recstore.Event) { got.Add(int64(len(evs))) })
				}
				b.StartTimer()
				if _, err := s.Push(full); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			perRecord(b, n)
		})
	}
}
